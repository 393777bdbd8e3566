package activities

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/oncall"
	"github.com/klaxonhq/klaxon/store"
)

// Rotations is the handoff workflow's window on Postgres: it reads a
// rotation and its overrides and says when the next handoff is, and what
// to tell whom. It never writes and never sends; the workflow sends through
// the delivery pipeline.
type Rotations struct {
	Store  *store.Store
	Logger *slog.Logger
}

// PlanHandoffInput asks for the first handoff of a rotation after an
// instant, and who is on call at another.
type PlanHandoffInput struct {
	Rotation string
	After    time.Time
	// Now is the workflow's time: Current says who is on call then.
	Now time.Time
}

// HandoffPlan is a rotation's next handoff.
type HandoffPlan struct {
	// Exists is false when the rotation has been deleted.
	Exists bool
	// Version is the rotation's version the plan was made from.
	Version int64
	// At is the handoff's instant; zero when none is ahead (a one-member
	// rotation with no override to come).
	At       time.Time
	Outgoing string
	Incoming string
	// Reminder is how long before At the incoming person is reminded; zero
	// is off.
	Reminder time.Duration
	// Current is who is on call at Now ("" for nobody).
	Current string
}

// PlanHandoff returns the rotation's first handoff strictly after
// in.After.
func (a *Rotations) PlanHandoff(ctx context.Context, in PlanHandoffInput) (HandoffPlan, error) {
	from := in.After
	if !in.Now.IsZero() && in.Now.Before(from) {
		from = in.Now
	}
	rs, err := a.Store.RotationSchedule(ctx, in.Rotation, from)
	if klaxon.ErrorCodeOf(err) == klaxon.ENotFound {
		return HandoffPlan{}, nil
	}
	if err != nil {
		return HandoffPlan{}, fmt.Errorf("plan handoff: %w", err)
	}
	p := HandoffPlan{Exists: true, Version: rs.Rotation.Version, Reminder: rs.Rotation.Reminder}
	if !in.Now.IsZero() {
		p.Current = rs.Schedule.At(in.Now).User
	}
	if h, ok := rs.Schedule.NextHandoff(in.After); ok {
		p.At, p.Outgoing, p.Incoming = h.At, h.Outgoing, h.Incoming
	}
	return p, nil
}

// Kinds of handoff message.
const (
	// HandoffAnnounce is "now on call" / "off call" at a scheduled handoff.
	HandoffAnnounce = "handoff"
	// HandoffReminder reminds the incoming person before the handoff.
	HandoffReminder = "reminder"
	// HandoffCorrection announces a change of the person on call that no
	// handoff explains — an override in force was removed, or the person on
	// call left the rotation — from the person last announced (Outgoing)
	// to whoever is on call at At.
	HandoffCorrection = "correction"
)

// HandoffMessagesInput asks for the messages of one handoff.
type HandoffMessagesInput struct {
	Rotation string
	At       time.Time
	// Kind is HandoffAnnounce, HandoffReminder or HandoffCorrection.
	Kind string
	// Outgoing, for a correction, is who was last announced as on call.
	Outgoing string
	// Key, for a correction, makes its message ids unique: two changes of
	// who is on call within one second (an override added and removed)
	// must not be taken for one repeated announcement.
	Key string
}

// HandoffMessages is what to send for one handoff, decided from the
// rotation as it is now.
type HandoffMessages struct {
	// Exists is false when the rotation has been deleted.
	Exists bool
	// Current reports that the person on call still changes at At; edits
	// since the plan may have moved or removed the handoff.
	Current  bool
	Outgoing string
	Incoming string
	// Until is when the incoming person's stint ends; zero if it does not.
	Until time.Time
	// NextAt is the handoff after this one (equal to Until when set).
	NextAt time.Time
	// Messages are ready for the delivery pipeline; their IDs derive from
	// the rotation, the handoff's instant, the kind and the recipient, so a
	// repeated handoff is sent once.
	Messages []klaxon.Message
	// Warnings say who could not be told, and why.
	Warnings []string
}

// HandoffMessageID is the delivery id of one handoff message, e.g.
// "rotation/ops/1772442000/in/alice": the idempotency key that makes a
// handoff announced once, across retries, worker crashes and replays. part
// is "in", "out" or "remind"; naming the person too keeps two different
// handoffs in the same second (a rotation's start, then an override from
// "now") apart.
func HandoffMessageID(rotation string, at time.Time, part, handle string) string {
	return "rotation/" + rotation + "/" + strconv.FormatInt(at.Unix(), 10) + "/" + part + "/" + handle
}

// timeLayout is how handoff texts write an instant, in the rotation's
// timezone: "Mon 9 Mar 09:00 CET".
const timeLayout = "Mon 2 Jan 15:04 MST"

// HandoffMessages returns the messages of the rotation's handoff at in.At:
// for an announcement, "You are now on call for NAME until …" to the
// incoming person and "You are off call for NAME; X has it." to the
// outgoing one; for a reminder, a note to the incoming person. Each goes to
// the person's preferred verified method (SMS, else voice, else email);
// someone with none gets a warning instead.
func (a *Rotations) HandoffMessages(ctx context.Context, in HandoffMessagesInput) (HandoffMessages, error) {
	// Overrides ending exactly at At decide who hands off: read from just
	// before it.
	rs, err := a.Store.RotationSchedule(ctx, in.Rotation, in.At.Add(-time.Second))
	if klaxon.ErrorCodeOf(err) == klaxon.ENotFound {
		return HandoffMessages{}, nil
	}
	if err != nil {
		return HandoffMessages{}, fmt.Errorf("handoff messages: %w", err)
	}
	out := HandoffMessages{Exists: true}
	msgID := func(part, handle string) string { return HandoffMessageID(in.Rotation, in.At, part, handle) }
	var h oncall.Handoff
	if in.Kind == HandoffCorrection {
		msgID = func(part, handle string) string {
			return "rotation/" + in.Rotation + "/change-" + in.Key + "/" + part + "/" + handle
		}
		h = oncall.Handoff{At: in.At, Outgoing: in.Outgoing, Incoming: rs.Schedule.At(in.At).User}
		if h.Incoming == h.Outgoing {
			return out, nil
		}
	} else {
		var ok bool
		h, ok = rs.Schedule.NextHandoff(in.At.Add(-time.Nanosecond))
		if !ok || !h.At.Equal(in.At) {
			return out, nil
		}
	}
	out.Current, out.Outgoing, out.Incoming = true, h.Outgoing, h.Incoming
	if next, ok := rs.Schedule.NextHandoff(in.At); ok {
		out.Until, out.NextAt = next.At, next.At
	}
	rot := rs.Rotation
	rotLoc := rs.Schedule.Location
	name := rot.Name

	var incomingName string
	if h.Incoming != "" {
		u, c, err := a.reach(ctx, rs.UserID(h.Incoming))
		if err != nil {
			return out, err
		}
		incomingName = u.Name
		// Times are in the rotation's timezone: the one the team agreed
		// its handoffs in, with its abbreviation.
		loc := rotLoc
		switch {
		case !u.Active:
			out.Warnings = append(out.Warnings, fmt.Sprintf("%s is deactivated (no longer in the directory) and was not told about their shift on %s; pages to it go to its next active member.", h.Incoming, name))
		case c == nil:
			out.Warnings = append(out.Warnings, fmt.Sprintf("%s has no verified contact method and was not told about their shift on %s.", h.Incoming, name))
		case in.Kind == HandoffReminder:
			body := fmt.Sprintf("Reminder: you are on call for %s from %s", name, in.At.In(loc).Format(timeLayout))
			if !out.Until.IsZero() {
				body += " until " + out.Until.In(loc).Format(timeLayout)
			}
			out.Messages = append(out.Messages, handoffMessage(rot, *c, msgID("remind", h.Incoming),
				"Reminder: on call for "+name, body+".", "handoff-reminder"))
		default:
			body := "You are now on call for " + name
			if !out.Until.IsZero() {
				body += " until " + out.Until.In(loc).Format(timeLayout)
			}
			out.Messages = append(out.Messages, handoffMessage(rot, *c, msgID("in", h.Incoming),
				"On call for "+name, body+".", "handoff"))
		}
	}
	if in.Kind != HandoffReminder && h.Outgoing != "" {
		id := rs.UserID(h.Outgoing)
		if id == 0 {
			// Someone who left the rotation since they were announced.
			u, err := a.Store.UserByHandle(ctx, h.Outgoing)
			if err != nil && klaxon.ErrorCodeOf(err) != klaxon.ENotFound {
				return out, fmt.Errorf("handoff messages: outgoing: %w", err)
			}
			id = u.ID
		}
		var c *store.Contact
		if id != 0 {
			if _, c, err = a.reach(ctx, id); err != nil {
				return out, err
			}
		}
		body := "You are off call for " + name + "."
		if h.Incoming != "" {
			body = "You are off call for " + name + "; " + incomingName + " has it."
		}
		if c == nil {
			out.Warnings = append(out.Warnings, fmt.Sprintf("%s has no verified contact method and was not told they are off call for %s.", h.Outgoing, name))
		} else {
			out.Messages = append(out.Messages, handoffMessage(rot, *c, msgID("out", h.Outgoing),
				"Off call for "+name, body, "handoff"))
		}
	}
	for _, w := range out.Warnings {
		a.Logger.WarnContext(ctx, "handoff recipient unreachable", "rotation", name, "at", in.At, "warning", w)
	}
	return out, nil
}

// reach returns a user and their preferred verified contact method: the
// first verified SMS number, else voice number, else email address; nil
// when they have none or are deactivated.
func (a *Rotations) reach(ctx context.Context, userID int64) (store.User, *store.Contact, error) {
	u, err := a.Store.UserByID(ctx, userID)
	if err != nil {
		return u, nil, fmt.Errorf("handoff recipient: %w", err)
	}
	cs, err := a.Store.Contacts(ctx, userID, true)
	if err != nil {
		return u, nil, fmt.Errorf("handoff recipient: %w", err)
	}
	if len(cs) == 0 || !u.Active {
		// A deactivated person is told nothing: they left.
		return u, nil, nil
	}
	// Contacts come sms, voice, email, oldest first.
	return u, &cs[0], nil
}

func handoffMessage(r store.Rotation, c store.Contact, id, subject, body, purpose string) klaxon.Message {
	return klaxon.Message{
		ID:        id,
		Medium:    c.Type,
		ToRef:     "contact:" + strconv.FormatInt(c.ID, 10),
		Subject:   subject,
		Body:      body,
		ThreadKey: "rotation/" + r.Name,
		Priority:  klaxon.Normal,
		Purpose:   purpose,
		Ref:       "rotation:" + r.Name,
	}
}
