package store

import (
	"context"
	"fmt"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/paging"
	"github.com/klaxonhq/klaxon/redact"
)

// ResolveTarget returns the people a user or rotation target names now.
// Unknown names are ENotFound errors; a policy is not a person.
func (s *Store) ResolveTarget(ctx context.Context, t paging.Target) ([]User, error) {
	switch t.Kind {
	case paging.TargetUser:
		u, err := s.UserByHandle(ctx, t.Name)
		if klaxon.ErrorCodeOf(err) == klaxon.ENotFound {
			return nil, klaxon.Errorf(klaxon.ENotFound, "There is no user %q.", t.Name)
		}
		if err != nil {
			return nil, err
		}
		return []User{u}, nil
	case paging.TargetRotation:
		return s.onCallForRotation(ctx, t.Name)
	default:
		return nil, klaxon.Errorf(klaxon.EUnprocessable, "%s is a policy, not a person or rotation.", t)
	}
}

// onCallForRotation returns whoever is on call for the rotation now — when
// the step fires, not when the page was created: the cover of an override
// in force, else the scheduled member (computed by OnCall, never
// stored). An unknown rotation is ENotFound; one that has not started yet
// has nobody to page, EUnprocessable.
func (s *Store) onCallForRotation(ctx context.Context, name string) ([]User, error) {
	oc, err := s.OnCall(ctx, name, time.Now())
	if err != nil {
		return nil, err
	}
	if oc.User == "" {
		return nil, klaxon.Errorf(klaxon.EUnprocessable, "Nobody is on call for %s yet: the rotation starts at %s.", name, oc.Until.UTC().Format(time.RFC3339))
	}
	u, err := s.UserByID(ctx, oc.UserID)
	if err != nil {
		return nil, fmt.Errorf("on call for %s: %w", name, err)
	}
	return []User{u}, nil
}

// CallPage is the page a call was placed for, and who was called.
type CallPage struct {
	PageID int64
	// By is the handle of the person called (or their redacted number).
	By string
}

// PageOfCall returns the page whose call carried message messageID, and
// whom it called; klaxon.ErrNotFound when the message is not a page's.
func (s *Store) PageOfCall(ctx context.Context, messageID string) (CallPage, error) {
	pm, err := s.PageOfMessage(ctx, messageID)
	if err != nil {
		return CallPage{}, err
	}
	cp := CallPage{PageID: pm.PageID, By: redact.Number(pm.To)}
	if rc, err := s.ReplyCodeOfPage(ctx, pm.PageID, pm.To); err == nil && rc.UserID != 0 {
		if u, err := s.UserByID(ctx, rc.UserID); err == nil {
			cp.By = u.Handle
		}
	}
	return cp, nil
}

// DeliveryEvent is the timeline entry of a provider status of a page's
// message (once per message and status).
func DeliveryEvent(messageID string, medium klaxon.Medium, to, status, answeredBy, errorCode string) PageEvent {
	detail := status
	if answeredBy != "" {
		detail += " (answered by " + answeredBy + ")"
	}
	if errorCode != "" {
		detail += " (error " + errorCode + ")"
	}
	return PageEvent{
		Kind: EventDelivery, Key: "delivery/" + messageID + "/" + status, Medium: medium,
		Contact: redact.Address(to), MessageID: messageID, Detail: detail,
	}
}
