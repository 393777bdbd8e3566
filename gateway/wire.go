package gateway

import (
	"github.com/klaxonhq/klaxon/api"
	"github.com/klaxonhq/klaxon/paging"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/workflows"
)

// The API's answers are the wire types of package api, which the typed
// client shares; these map the store's rows to them.

func pageOf(p paging.Page) api.Page {
	return api.Page{
		ID: p.ID, Target: p.Target, Summary: p.Summary, Details: p.Details, Mode: p.Mode, Urgency: p.Urgency,
		DedupKey: p.DedupKey, EscalateAfterSeconds: p.EscalateAfterSeconds, RequestedBy: p.RequestedBy,
		Status: p.Status, CreatedAt: p.CreatedAt, AckedAt: p.AckedAt, AckedBy: p.AckedBy,
		ResolvedAt: p.ResolvedAt, ResolvedBy: p.ResolvedBy,
	}
}

func pageEventsOf(evs []paging.Event) []api.PageEvent {
	out := make([]api.PageEvent, 0, len(evs))
	for _, e := range evs {
		out = append(out, api.PageEvent{Kind: e.Kind, User: e.User, Medium: e.Medium, Contact: e.Contact, MessageID: e.MessageID, Detail: e.Detail, At: e.At})
	}
	return out
}

func messageOf(m store.MessageRecord, attempts []store.Attempt, events []store.StatusEvent) api.Message {
	v := api.Message{
		ID: m.ID, Medium: m.Medium, From: m.From, To: m.To, Subject: m.Subject, Body: m.Body, ThreadKey: m.ThreadKey,
		Priority: int(m.Priority), IgnoreOptOut: m.IgnoreOptOut, Purpose: m.Purpose, Ref: m.Ref,
		Status: m.Status, ProviderID: m.ProviderID, ErrorKind: m.ErrorKind, ErrorCode: m.ErrorCode, ErrorReason: m.ErrorReason,
		CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt, Channel: m.Medium,
		Attempts: make([]api.Attempt, 0, len(attempts)), Events: make([]api.StatusEvent, 0, len(events)),
	}
	for _, a := range attempts {
		v.Attempts = append(v.Attempts, api.Attempt{Lane: a.Lane, Attempt: a.Attempt, StartedAt: a.StartedAt, FinishedAt: a.FinishedAt,
			Outcome: a.Outcome, ProviderID: a.ProviderID, ErrorKind: a.ErrorKind, ErrorCode: a.ErrorCode, ErrorReason: a.ErrorReason})
	}
	for _, e := range events {
		v.Events = append(v.Events, api.StatusEvent{Status: e.Status, Detail: e.Detail, ErrorCode: e.ErrorCode, ReceivedAt: e.ReceivedAt})
	}
	return v
}

func userOf(u store.User) api.User {
	return api.User{ID: u.ID, Handle: u.Handle, Name: u.Name, Timezone: u.Timezone, Nick: u.Nick,
		MatrixID: u.MatrixID, IRCAccount: u.IRCAccount, Source: u.Source, LDAPDN: u.LDAPDN, Active: u.Active,
		DeactivatedAt: u.DeactivatedAt, CreatedAt: u.CreatedAt}
}

func contactOf(c store.Contact, ch store.Challenge) api.Contact {
	return api.Contact{ID: c.ID, UserID: c.UserID, Type: c.Type, Address: c.Address, Status: c.Status,
		VerifiedAt: c.VerifiedAt, CreatedAt: c.CreatedAt, Verification: newVerificationView(ch)}
}

func policyOf(p paging.Policy) api.Policy {
	v := api.Policy{ID: p.ID, Name: p.Name, Repeat: p.Repeat, Steps: make([]api.PolicyStep, 0, len(p.Steps)), CreatedAt: p.CreatedAt}
	for _, s := range p.Steps {
		v.Steps = append(v.Steps, api.PolicyStep{Targets: s.Targets, DelaySeconds: s.DelaySeconds})
	}
	return v
}

func policyFrom(req api.PolicyRequest) paging.Policy {
	p := paging.Policy{Name: req.Name, Repeat: req.Repeat}
	for _, s := range req.Steps {
		p.Steps = append(p.Steps, paging.PolicyStep{Targets: s.Targets, DelaySeconds: s.DelaySeconds})
	}
	return p
}

func rulesOf(rules []paging.NotificationRule) api.NotificationRules {
	var v api.NotificationRules
	for _, r := range rules {
		v.Rules = append(v.Rules, api.NotificationRule{Medium: r.Medium, DelaySeconds: r.DelaySeconds})
	}
	return v
}

func rulesFrom(v api.NotificationRules) []paging.NotificationRule {
	var out []paging.NotificationRule
	for _, r := range v.Rules {
		out = append(out, paging.NotificationRule{Medium: r.Medium, DelaySeconds: r.DelaySeconds})
	}
	return out
}

func channelOf(c store.Channel) api.Channel {
	return api.Channel{ID: c.ID, Phone: c.Phone, Kind: c.Kind, HotlineOn: c.HotlineOn, Admins: c.Admins,
		Subscribers: c.Subscribers, CreatedAt: c.CreatedAt, DeletedAt: c.DeletedAt}
}

func broadcastOf(b store.Broadcast) api.Broadcast {
	return api.Broadcast{ID: b.ID, Recipients: b.Recipients, Done: b.Done, Queued: b.Queued, Sent: b.Sent,
		Delivered: b.Delivered, Failed: b.Failed, CreatedAt: b.CreatedAt}
}

func overrideOf(o store.RotationOverride) api.Override {
	return api.Override{ID: o.ID, Rotation: o.Rotation, User: o.User, Start: o.Start, End: o.End, CreatedAt: o.CreatedAt}
}

func handoffsStateOf(s workflows.RotationState) *api.HandoffsState {
	return &api.HandoffsState{Rotation: s.Rotation, Status: s.Status, NextHandoff: s.NextHandoff, Outgoing: s.Outgoing,
		Incoming: s.Incoming, ReminderAt: s.ReminderAt, LastHandoff: s.LastHandoff, OnCall: s.OnCall, Version: s.Version, Warnings: s.Warnings}
}

func provisionOf(r workflows.ProvisionResult) api.ProvisionResult {
	v := api.ProvisionResult{Bought: r.Bought}
	for _, f := range r.Failed {
		v.Failed = append(v.Failed, api.ProvisionFailure{Phone: f.Phone, Reason: f.Reason})
	}
	return v
}
