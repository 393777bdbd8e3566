package store

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/paging"
	"github.com/klaxonhq/klaxon/redact"
)

// ResolveTarget returns the people a user or rotation target names now.
// Unknown names are ENotFound errors; a policy is not a person. A rotation
// whose person on call is deactivated names the next active member (see
// ResolveTargetNow).
func (s *Store) ResolveTarget(ctx context.Context, t paging.Target) ([]User, error) {
	r, err := s.ResolveTargetNow(ctx, t)
	return r.Users, err
}

// Resolution is whom a target names now, and whom it passed over.
type Resolution struct {
	Users []User
	// PassedOver are people on call who are deactivated, each with the
	// sentence that says who stands in.
	PassedOver []PassedOver
}

// PassedOver is a deactivated person a rotation passed over.
type PassedOver struct {
	Handle string
	Reason string
}

// ResolveTargetNow is ResolveTarget, saying whom it passed over: a
// rotation's person on call who is deactivated (removed from the
// directory) is replaced by the next active member in the rotation's order
// — the person who would take over were they removed from it — so that a
// page to the rotation still reaches someone on it. A user target is
// returned as it is, active or not: CanPage decides.
func (s *Store) ResolveTargetNow(ctx context.Context, t paging.Target) (Resolution, error) {
	switch t.Kind {
	case paging.TargetUser:
		u, err := s.UserByHandle(ctx, t.Name)
		if klaxon.ErrorCodeOf(err) == klaxon.ENotFound {
			return Resolution{}, klaxon.Errorf(klaxon.ENotFound, "There is no user %q.", t.Name)
		}
		if err != nil {
			return Resolution{}, err
		}
		return Resolution{Users: []User{u}}, nil
	case paging.TargetRotation:
		return s.onCallForRotation(ctx, t.Name)
	default:
		return Resolution{}, klaxon.Errorf(klaxon.EUnprocessable, "%s is a policy, not a person or rotation.", t)
	}
}

// onCallForRotation returns whoever is on call for the rotation now — when
// the step fires, not when the page was created: the cover of an override
// in force, else the scheduled member (computed by OnCall, never
// stored); a deactivated one is passed over for the next active member.
// An unknown rotation is ENotFound; one that has not started yet, or whose
// members are all deactivated, has nobody to page, EUnprocessable.
func (s *Store) onCallForRotation(ctx context.Context, name string) (Resolution, error) {
	now := time.Now()
	rs, err := s.RotationSchedule(ctx, name, now)
	if err != nil {
		return Resolution{}, err
	}
	oc := rs.OnCall(now)
	if oc.User == "" {
		return Resolution{}, klaxon.Errorf(klaxon.EUnprocessable, "Nobody is on call for %s yet: the rotation starts at %s.", name, oc.Until.UTC().Format(time.RFC3339))
	}
	u, err := s.UserByID(ctx, oc.UserID)
	if err != nil {
		return Resolution{}, fmt.Errorf("on call for %s: %w", name, err)
	}
	if u.Active {
		return Resolution{Users: []User{u}}, nil
	}
	// The stand-ins, in order: the scheduled member when an override's
	// cover is the one deactivated, then the members after the one on
	// call, round the rotation.
	members := rs.Rotation.Members
	from := slices.IndexFunc(members, func(m RotationMember) bool { return m.Handle == oc.ScheduledUser })
	var order []int64
	if oc.OverrideID != 0 && oc.ScheduledUser != oc.User && from >= 0 {
		order = append(order, members[from].UserID)
	}
	if at := slices.IndexFunc(members, func(m RotationMember) bool { return m.Handle == oc.User }); at >= 0 {
		from = at
	}
	for i := 1; i <= len(members); i++ {
		order = append(order, members[(max(from, 0)+i)%len(members)].UserID)
	}
	active, err := s.activeUsers(ctx, order)
	if err != nil {
		return Resolution{}, fmt.Errorf("on call for %s: %w", name, err)
	}
	for _, id := range order {
		if sub, ok := active[id]; ok && id != u.ID {
			return Resolution{Users: []User{sub}, PassedOver: []PassedOver{{Handle: u.Handle, Reason: fmt.Sprintf(
				"%s is on call but deactivated (no longer in the directory); %s, next on the rotation, is paged instead.", u.Handle, sub.Handle)}}}, nil
		}
	}
	return Resolution{}, klaxon.Errorf(klaxon.EUnprocessable, "%s is on call for %s but deactivated, and so is everyone else on it.", u.Handle, name)
}

// activeUsers returns, of the users with the given ids, the active ones.
func (s *Store) activeUsers(ctx context.Context, ids []int64) (map[int64]User, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+userColumns+` FROM users WHERE id = ANY($1) AND active`, ids)
	if err != nil {
		return nil, err
	}
	users, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (User, error) { return scanUser(r) })
	if err != nil {
		return nil, err
	}
	out := make(map[int64]User, len(users))
	for _, u := range users {
		out[u.ID] = u
	}
	return out, nil
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

// OrderTimeline puts a page's timeline in the order things happened, which
// is not always the order they were recorded in: a provider's callbacks race
// each other ("in-progress" can arrive before "ringing"), and a text can be
// reported delivered before our record that the provider took it is
// written. A message's own entries keep their causal order — notified (or
// failed, canceled) first, then its delivery statuses by rank — and an
// entry recorded after a later one of its message takes that one's time: it
// had happened by then. The whole timeline is then in time order.
func OrderTimeline(evs []paging.Event) {
	type keyed struct {
		ev    paging.Event
		order int
	}
	ks := make([]keyed, len(evs))
	var messages []string
	byMessage := map[string][]int{}
	for i, e := range evs {
		ks[i] = keyed{ev: e, order: i}
		if e.MessageID != "" {
			if _, ok := byMessage[e.MessageID]; !ok {
				messages = append(messages, e.MessageID)
			}
			byMessage[e.MessageID] = append(byMessage[e.MessageID], i)
		}
	}
	for _, id := range messages {
		idx := byMessage[id]
		slots := slices.Clone(idx) // ascending: the recorded order
		sort.SliceStable(idx, func(a, b int) bool { return causalRank(ks[idx[a]].ev) < causalRank(ks[idx[b]].ev) })
		for j := len(idx) - 1; j >= 0; j-- {
			i := idx[j]
			ks[i].order = slots[j]
			if j+1 < len(idx) {
				if next := ks[idx[j+1]].ev.At; next.Before(ks[i].ev.At) {
					ks[i].ev.At = next
				}
			}
		}
	}
	sort.SliceStable(ks, func(a, b int) bool {
		if !ks[a].ev.At.Equal(ks[b].ev.At) {
			return ks[a].ev.At.Before(ks[b].ev.At)
		}
		return ks[a].order < ks[b].order
	})
	for i := range ks {
		evs[i] = ks[i].ev
	}
}

// causalRank orders one message's timeline entries: its notification (or
// failure, or cancellation) first, then its delivery statuses by rank.
func causalRank(e paging.Event) int {
	if e.Kind != paging.EventDelivery {
		return 0
	}
	status, ok := strings.CutPrefix(e.Key, "delivery/"+e.MessageID+"/")
	if !ok {
		status, _, _ = strings.Cut(e.Detail, " ")
	}
	return 1 + klaxon.StatusRank(status)
}

// DeliveryEvent is the timeline entry of a provider status of a page's
// message (once per message and status).
func DeliveryEvent(messageID string, medium klaxon.Medium, to, status, answeredBy, errorCode string) paging.Event {
	detail := status
	if answeredBy != "" {
		detail += " (answered by " + answeredBy + ")"
	}
	if errorCode != "" {
		detail += " (error " + errorCode + ")"
	}
	return paging.Event{
		Kind: paging.EventDelivery, Key: "delivery/" + messageID + "/" + status, Medium: medium,
		Contact: redact.Address(to), MessageID: messageID, Detail: detail,
	}
}
