package gateway

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/api"
	"github.com/klaxonhq/klaxon/code"
	"github.com/klaxonhq/klaxon/console"
	"github.com/klaxonhq/klaxon/integration"
	"github.com/klaxonhq/klaxon/paging"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/workflows"
)

// newConsole builds the web console on the gateway's own code paths.
func (g *Gateway) newConsole() (*console.Console, error) {
	return console.New(console.Deps{
		Store: g.Store, Backend: consoleBackend{g}, Logger: g.Logger, Clock: g.Clock,
		PublicURL: g.Config.PublicURL, APIToken: g.Config.APIToken.Value(), Brand: g.Config.Brand,
		PagingNumber: g.Config.FromNumber,
	})
}

// consoleBackend is the console's way into what the REST API does: the
// same validation, throttles and workflows.
type consoleBackend struct{ g *Gateway }

func (b consoleBackend) SendLoginCode(ctx context.Context, userID int64) (string, klaxon.Medium, error) {
	cs, err := b.g.Store.Contacts(ctx, userID, true)
	if err != nil {
		return "", "", err
	}
	var to *store.Contact
	for i, c := range cs {
		if c.Type == klaxon.SMS {
			to = &cs[i]
			break
		}
	}
	if to == nil {
		for i, c := range cs {
			if c.Type == klaxon.Email {
				to = &cs[i]
				break
			}
		}
	}
	if to == nil {
		return "", "", klaxon.Errorf(klaxon.EUnprocessable, "This user has no verified SMS number or email address.")
	}
	id, err := b.g.sendOTP(ctx, to.Type, to.Address, userID)
	if err != nil {
		return "", "", err
	}
	return workflows.OTPWorkflowID(id), to.Type, nil
}

func (b consoleBackend) CheckLoginCode(ctx context.Context, challengeID, raw string) (bool, error) {
	typed, ok := code.Normalize(raw)
	if !ok {
		return false, nil
	}
	ans, err := b.g.checkCode(ctx, challengeID, typed)
	if errors.Is(err, errCodeRefused) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return ans.Valid, nil
}

func (b consoleBackend) PageAction(ctx context.Context, pageID int64, resolve bool, by, via string) (string, error) {
	pg, err := b.g.Store.GetPage(ctx, pageID)
	if klaxon.ErrorCodeOf(err) == klaxon.ENotFound {
		return "", klaxon.Errorf(klaxon.ENotFound, "No page %d.", pageID)
	}
	if err != nil {
		return "", err
	}
	update, status := workflows.UpdateAck, paging.StatusAcked
	if resolve {
		update, status = workflows.UpdateResolve, paging.StatusResolved
	}
	v, err := b.g.applyPageAction(ctx, pg, update, status, paging.Action{By: by, Via: via})
	if err != nil {
		return "", err
	}
	return v.Message, nil
}

func (b consoleBackend) Escalate(ctx context.Context, pageID int64, by string) (string, error) {
	pg, err := b.g.Store.GetPage(ctx, pageID)
	if klaxon.ErrorCodeOf(err) == klaxon.ENotFound {
		return "", klaxon.Errorf(klaxon.ENotFound, "No page %d.", pageID)
	}
	if err != nil {
		return "", err
	}
	v, err := b.g.escalate(ctx, pg, paging.Action{By: by, Via: "console"})
	if err != nil {
		return "", err
	}
	return v.Message, nil
}

func (b consoleBackend) AddContact(ctx context.Context, userID int64, medium, address string) (store.Contact, error) {
	c, err := validateContact(api.ContactRequest{Type: medium, Address: address}, b.g.Config.DefaultRegion)
	if err != nil {
		return c, err
	}
	c.UserID = userID
	v, err := b.g.startVerification(ctx, c)
	if err != nil {
		return c, err
	}
	return v.Contact, nil
}

func (b consoleBackend) VerifyContact(ctx context.Context, contactID int64, raw string) error {
	_, err := b.g.verifyContactCode(ctx, contactID, raw)
	return err
}

func (b consoleBackend) TestSend(ctx context.Context, c store.Contact) error {
	m := klaxon.Message{Medium: c.Type, To: c.Address, Purpose: "test",
		Body: "This is a test from " + b.g.Config.Brand + ": pages will reach you here."}
	if c.Type.HasSubject() {
		m.Subject = b.g.Config.Brand + " test"
	}
	_, err := b.g.queueMessage(ctx, m)
	return err
}

func (b consoleBackend) AddOverride(ctx context.Context, rotation, handle string, start, end time.Time) error {
	if _, err := b.g.Store.AddOverride(ctx, rotation, store.NewOverride{User: handle, Start: start, End: end}, b.g.Clock.Now()); err != nil {
		return err
	}
	b.g.replanRotation(ctx, rotation, "override")
	return nil
}

func (b consoleBackend) Calendar(ctx context.Context, rotation string) (string, error) {
	now := b.g.Clock.Now()
	rs, err := b.g.Store.RotationSchedule(ctx, rotation, now)
	if err != nil {
		return "", err
	}
	return rotationICS(rs, now, now.AddDate(0, 0, 7*calendarWeeks), b.g.calendarDomain()), nil
}

func (b consoleBackend) RotateServiceKey(ctx context.Context, name string) (string, error) {
	key, hash := integration.NewKey()
	if _, err := b.g.Store.RotateServiceKey(ctx, name, hash); err != nil {
		if klaxon.ErrorCodeOf(err) == klaxon.ENotFound {
			return "", klaxon.Errorf(klaxon.ENotFound, "No service named %q.", truncate(strings.TrimSpace(name), 70))
		}
		return "", err
	}
	return key, nil
}
