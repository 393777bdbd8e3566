package workflows

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/activities"
	"github.com/klaxonhq/klaxon/paging"
)

var alice = []string{"sms:+15555550123", "voice:+15555550123", "email:alice@example.com"}

func TestPage_EscalatesTextThenCallThenEmailAndRepeats(t *testing.T) {
	r := newPageRig(t)
	r.person("user:alice", "alice", 1, alice)
	res := r.run(page("user:alice"), 2*time.Hour)
	// SMS at once, a call at +2 min, email at +5 min; the target is paged
	// again 5 minutes after the last medium, twice.
	want := []string{
		"sms@0s", "voice@2m0s", "email@5m0s",
		"sms@10m0s", "voice@12m0s", "email@15m0s",
		"sms@20m0s", "voice@22m0s", "email@25m0s",
	}
	if got := r.sentSummary(); !equalStrings(got, want) {
		t.Errorf("notifications = %v\nwant %v", got, want)
	}
	if res.Status != paging.StatusResolved || res.Sent != 9 {
		t.Errorf("result = %+v", res)
	}
	kinds := r.eventKinds()
	if kinds[len(kinds)-1] != paging.EventExhausted {
		t.Errorf("last event %q, want exhausted: %v", kinds[len(kinds)-1], kinds)
	}
	// Deterministic ids: page/<id>/<step>/<n>/<medium>.
	texts := r.sentBy(klaxon.SMS)
	if texts[0].ID != "page/7/0/0/sms" || texts[1].ID != "page/7/1/0/sms" || r.sentBy(klaxon.Email)[0].ID != "page/7/0/2/email" {
		t.Errorf("message ids %q, %q", texts[0].ID, texts[1].ID)
	}
	if texts[0].Body != "Page #7: derp is broken. Reply 3a to ack, 3c to resolve." {
		t.Errorf("text = %q", texts[0].Body)
	}
}

func TestPage_AckStopsEveryPendingNotification(t *testing.T) {
	r := newPageRig(t)
	r.person("user:alice", "alice", 1, alice)
	var res paging.ActionResult
	r.at(90*time.Second, func() { r.update(UpdateAck, paging.Action{By: "alice", Via: "sms"}, &res, nil) })
	var state PageState
	r.at(100*time.Second, func() {
		v, err := r.env.QueryWorkflow(QueryState)
		if err != nil {
			t.Error(err)
			return
		}
		if err := v.Get(&state); err != nil {
			t.Error(err)
		}
	})
	out := r.run(page("user:alice"), time.Hour)
	if got := r.sentSummary(); !equalStrings(got, []string{"sms@0s"}) {
		t.Errorf("notifications = %v, want only the text before the ack", got)
	}
	if !res.Changed || res.Status != paging.StatusAcked || res.By != "alice" {
		t.Errorf("ack answered %+v", res)
	}
	if out.AckedBy != "alice" || out.ResolvedBy != "test" {
		t.Errorf("result = %+v", out)
	}
	if state.Status != paging.StatusAcked || len(state.Notifications) != 3 ||
		state.Notifications[1].Status != klaxon.StatusCanceled || state.Notifications[2].Status != klaxon.StatusCanceled {
		t.Errorf("state after ack = %+v", state)
	}
	if r.hangups == 0 {
		t.Error("the page's calls were not hung up")
	}
	if len(r.statuses) != 2 || r.statuses[0].Status != paging.StatusAcked || r.statuses[0].Via != "sms" {
		t.Errorf("recorded statuses = %+v", r.statuses)
	}
}

// A page nobody subscribed to starts no FYI child for its events: the
// workflow asks once per event and plans nothing.
func TestPage_WithoutSubscribersPlansNoFYIs(t *testing.T) {
	r := newPageRig(t)
	r.person("user:alice", "alice", 1, alice)
	r.at(90*time.Second, func() { r.update(UpdateAck, paging.Action{By: "alice", Via: "sms"}, nil, nil) })
	r.run(page("user:alice"), time.Hour)
	if len(r.fyis) != 0 {
		t.Errorf("FYIs planned for %v with nobody subscribed", r.fyis)
	}
	if r.askedFYIs != 3 {
		t.Errorf("asked %d times whether anyone subscribed, want once per event (opened, acked, resolved)", r.askedFYIs)
	}
}

func TestPage_TellsSubscribersOfEachEventOnceWithoutCancelingTheirFYIs(t *testing.T) {
	r := newPageRig(t)
	r.person("user:alice", "alice", 1, alice)
	r.fyiMessages = []klaxon.Message{{ID: "fyi-1-1", Medium: klaxon.SMS, To: "+15555550177", Body: "FYI", Priority: klaxon.Normal, Purpose: "fyi"}}
	r.at(90*time.Second, func() { r.update(UpdateAck, paging.Action{By: "alice", Via: "sms"}, nil, nil) })
	r.run(page("user:alice"), time.Hour)
	if !equalStrings(r.fyis, []string{"opened", "acked", "resolved"}) {
		t.Errorf("announced %v, want opened, acked, resolved", r.fyis)
	}
	// The FYIs went out though the ack canceled the page's own
	// notifications: they are not part of the escalation.
	sent := map[string]bool{}
	r.mu.Lock()
	for _, n := range r.sent {
		sent[n.ID] = true
	}
	r.mu.Unlock()
	for _, id := range []string{"fyi-1-1-opened", "fyi-1-1-acked", "fyi-1-1-resolved"} {
		if !sent[id] {
			t.Errorf("FYI %s was not sent; sent %v", id, sent)
		}
	}
}

func TestPage_AckCancelsATextQueuedForTheRateLimit(t *testing.T) {
	r := newPageRig(t)
	r.person("user:alice", "alice", 1, alice)
	r.first = func(m klaxon.Message) error {
		return temporal.NewApplicationError("sending number is at its rate limit", activities.ErrTypeRateLimit)
	}
	r.queue = func(klaxon.Message) time.Duration { return 30 * time.Second }
	r.at(10*time.Second, func() { r.update(UpdateAck, paging.Action{By: "alice"}, nil, nil) })
	r.run(page("user:alice"), time.Hour)
	if got := r.sentSummary(); len(got) != 0 {
		t.Errorf("notifications = %v, want none: the text was still queued at the ack", got)
	}
	canceled := false
	for _, f := range r.finalized {
		canceled = canceled || (f.ID == "page/7/0/0/sms" && f.Status == klaxon.StatusCanceled)
	}
	if !canceled {
		t.Errorf("queued text not finalized as canceled: %+v", r.finalized)
	}
}

func TestPage_BlastAckByCallPutsTheCanceledTextInTheTimeline(t *testing.T) {
	r := newPageRig(t)
	r.person("user:alice", "alice", 1, alice)
	// The text waits for the sending number's rate limit; the call is
	// answered and acknowledged meanwhile.
	r.first = func(m klaxon.Message) error {
		if m.Medium == klaxon.SMS {
			return temporal.NewApplicationError("sending number is at its rate limit", activities.ErrTypeRateLimit)
		}
		return nil
	}
	r.queue = func(klaxon.Message) time.Duration { return 30 * time.Second }
	r.at(10*time.Second, func() { r.update(UpdateAck, paging.Action{By: "alice", Via: "call"}, nil, nil) })
	in := page("user:alice")
	in.Mode = paging.ModeBlast
	r.run(in, time.Hour)
	fate := map[klaxon.Medium]string{}
	for _, e := range r.events {
		if e.Kind == paging.EventNotified || e.Kind == paging.EventCanceled || e.Kind == paging.EventFailed {
			fate[e.Medium] = e.Kind + ": " + e.Detail
		}
	}
	if got := fate[klaxon.SMS]; got != "canceled: not sent: the page was acknowledged before a provider took it" {
		t.Errorf("the text's fate in the timeline = %q (events %v)", got, r.eventKinds())
	}
	if !strings.HasPrefix(fate[klaxon.Voice], "notified") || !strings.HasPrefix(fate[klaxon.Email], "notified") {
		t.Errorf("fates = %v", fate)
	}
}

func TestPage_AckPutsNotificationsNotYetDueInTheTimeline(t *testing.T) {
	r := newPageRig(t)
	r.person("user:alice", "alice", 1, alice)
	r.at(90*time.Second, func() { r.update(UpdateAck, paging.Action{By: "alice", Via: "sms"}, nil, nil) })
	r.run(page("user:alice"), time.Hour)
	var canceled []string
	for _, e := range r.events {
		if e.Kind == paging.EventCanceled {
			canceled = append(canceled, string(e.Medium)+": "+e.Detail)
		}
	}
	want := []string{
		"voice: not sent: the page was acknowledged before it was due",
		"email: not sent: the page was acknowledged before it was due",
	}
	if !equalStrings(canceled, want) {
		t.Errorf("canceled entries = %q, want %q", canceled, want)
	}
}

func TestPage_PermanentFailureMovesToTheNextMediumAtOnce(t *testing.T) {
	r := newPageRig(t)
	r.person("user:alice", "alice", 1, alice)
	r.first = func(m klaxon.Message) error {
		if m.Medium == klaxon.SMS {
			return temporal.NewNonRetryableApplicationError("InvalidNumber (21211)", "InvalidNumber", nil)
		}
		return nil
	}
	r.run(page("user:alice"), 9*time.Minute)
	if got := r.sentSummary(); !equalStrings(got[:2], []string{"voice@0s", "email@5m0s"}) {
		t.Errorf("notifications = %v, want the call at once, then email at its own time", got)
	}
	found := false
	for _, e := range r.events {
		found = found || (e.Kind == paging.EventFailed && e.Medium == klaxon.SMS && strings.Contains(e.Detail, "InvalidNumber"))
	}
	if !found {
		t.Errorf("no failed event for the text: %+v", r.events)
	}
}

func TestPage_UnansweredCallMovesToEmailAtOnce(t *testing.T) {
	r := newPageRig(t)
	r.person("user:alice", "alice", 1, alice)
	r.at(150*time.Second, func() {
		r.env.SignalWorkflow(SignalPageDelivery, PageDelivery{MessageID: "page/7/0/1/voice", Status: klaxon.StatusNoAnswer})
	})
	r.run(page("user:alice"), 9*time.Minute)
	if got := r.sentSummary(); !equalStrings(got, []string{"sms@0s", "voice@2m0s", "email@2m30s"}) {
		t.Errorf("notifications = %v", got)
	}
}

func TestPage_FailureReportedBeforeTheSendReturnedStillMovesOn(t *testing.T) {
	r := newPageRig(t)
	r.person("user:alice", "alice", 1, alice)
	// The provider called back "undelivered" before the pipeline knew the
	// text's id: the gateway could not place it; the record finds it.
	r.early = map[string][]activities.DeliveryStatus{"page/7/0/0/sms": {{Status: klaxon.StatusSent}, {Status: klaxon.StatusUndelivered}}}
	r.run(page("user:alice"), 9*time.Minute)
	if got := r.sentSummary(); !equalStrings(got, []string{"sms@0s", "voice@0s", "email@5m0s"}) {
		t.Errorf("notifications = %v", got)
	}
}

func TestPage_CallAnsweredByAMachineMovesOnAtOnce(t *testing.T) {
	r := newPageRig(t)
	r.person("user:alice", "alice", 1, alice)
	r.at(130*time.Second, func() {
		r.env.SignalWorkflow(SignalPageDelivery, PageDelivery{MessageID: "page/7/0/1/voice", Status: klaxon.StatusAnswered, AnsweredBy: "machine_start"})
	})
	r.at(160*time.Second, func() {
		r.env.SignalWorkflow(SignalPageDelivery, PageDelivery{MessageID: "page/7/0/1/voice", Status: klaxon.StatusCompleted, AnsweredBy: "machine_start"})
	})
	r.run(page("user:alice"), 9*time.Minute)
	if got := r.sentSummary(); !equalStrings(got, []string{"sms@0s", "voice@2m0s", "email@2m40s"}) {
		t.Errorf("notifications = %v", got)
	}
}

func TestPage_PolicyStepsRunInOrderAndRepeat(t *testing.T) {
	r := newPageRig(t)
	sms := []paging.NotificationRule{{Medium: klaxon.SMS}}
	r.person("user:alice", "alice", 1, alice, sms...)
	r.person("user:bob", "bob", 2, []string{"sms:+15555550124"}, sms...)
	r.policies["db"] = paging.Policy{Name: "db", Repeat: 1, Steps: []paging.PolicyStep{
		{Targets: []string{"user:alice"}, DelaySeconds: 60},
		{Targets: []string{"rotation:nobody"}, DelaySeconds: 600},
		{Targets: []string{"user:bob"}, DelaySeconds: 90},
	}}
	r.run(page("policy:db"), time.Hour)
	// The step naming nobody is skipped, and the next runs at once.
	want := []string{"sms@0s", "sms@1m0s", "sms@2m30s", "sms@3m30s"}
	if got := r.sentSummary(); !equalStrings(got, want) {
		t.Errorf("notifications = %v, want %v", got, want)
	}
	texts := r.sentBy(klaxon.SMS)
	if to := []string{texts[0].To, texts[1].To, texts[2].To, texts[3].To}; to[0] != to[2] || to[1] != to[3] || to[0] == to[1] {
		t.Errorf("recipients = %v, want alice, bob, alice, bob", to)
	}
	if len(r.steps) != 6 {
		t.Errorf("%d steps begun, want 6 (3 steps, twice)", len(r.steps))
	}
}

func TestPage_PolicyStepsReachPeopleWhoseChainsOverlap(t *testing.T) {
	r := newPageRig(t)
	r.person("user:alice", "alice", 1, alice)
	r.person("user:bob", "bob", 2, []string{"sms:+15555550124", "voice:+15555550124"})
	r.policies["db"] = paging.Policy{Name: "db", Repeat: 0, Steps: []paging.PolicyStep{
		{Targets: []string{"user:alice"}, DelaySeconds: 60},
		{Targets: []string{"user:bob", "user:alice"}, DelaySeconds: 60},
	}}
	r.run(page("policy:db"), time.Hour)
	// Alice keeps escalating through step 2 (she is not paged from the
	// start again); bob starts his own chain at +1 min.
	want := []string{"sms@0s", "sms@1m0s", "voice@2m0s", "voice@3m0s", "email@5m0s"}
	if got := r.sentSummary(); !equalStrings(got, want) {
		t.Errorf("notifications = %v, want %v", got, want)
	}
}

func TestPage_UnknownPolicyIsRecordedAndNobodyIsPaged(t *testing.T) {
	r := newPageRig(t)
	r.run(page("policy:gone"), time.Hour)
	if got := r.sentSummary(); len(got) != 0 {
		t.Errorf("notifications = %v", got)
	}
	if kinds := r.eventKinds(); len(kinds) != 1 || kinds[0] != paging.EventSkipped {
		t.Errorf("events = %v, want one skipped", kinds)
	}
}

func TestPage_BlastReachesEveryContactAtOnce(t *testing.T) {
	r := newPageRig(t)
	r.person("user:alice", "alice", 1, alice)
	in := page("user:alice")
	in.Mode, in.RequestedBy = paging.ModeBlast, "alincoln"
	r.at(time.Minute, func() { r.update(UpdateAck, paging.Action{By: "alice"}, nil, nil) })
	r.run(in, time.Hour)
	if got := r.sentSummary(); !equalStrings(got, []string{"sms@0s", "voice@0s", "email@0s"}) {
		t.Errorf("notifications = %v", got)
	}
	if got := r.sentBy(klaxon.SMS)[0].Body; got != "alincoln needs you now (page #7): derp is broken. Reply 3a to ack, 3c to resolve." {
		t.Errorf("text = %q", got)
	}
	if got := r.sentBy(klaxon.Voice)[0].Body; got != "alincoln needs you now: derp is broken." {
		t.Errorf("spoken = %q", got)
	}
}

func TestPage_LowUrgencySendsOneTextAndNeverCalls(t *testing.T) {
	r := newPageRig(t)
	r.person("user:alice", "alice", 1, alice)
	r.person("user:alice", "bob", 2, []string{"voice:+15555550124", "email:bob@example.com"})
	r.person("user:alice", "carol", 3, []string{"voice:+15555550125"})
	in := page("user:alice")
	in.Urgency = paging.UrgencyLow
	r.run(in, 2*time.Hour)
	if got := r.sentSummary(); !equalStrings(got, []string{"sms@0s", "email@0s"}) {
		t.Errorf("notifications = %v, want one text (alice) and one email (bob, who has no phone for texts)", got)
	}
	skipped := 0
	for _, e := range r.events {
		if e.Kind == paging.EventSkipped {
			skipped++
		}
	}
	if skipped != 1 {
		t.Errorf("carol (voice only) should be recorded as skipped: %+v", r.events)
	}
}

func TestPage_EscalateAfterOverridesEveryWait(t *testing.T) {
	r := newPageRig(t)
	r.person("user:alice", "alice", 1, alice)
	in := page("user:alice")
	in.EscalateAfterSeconds = 30
	r.run(in, time.Hour)
	want := []string{
		"sms@0s", "voice@30s", "email@1m0s",
		"sms@1m30s", "voice@2m0s", "email@2m30s",
		"sms@3m0s", "voice@3m30s", "email@4m0s",
	}
	if got := r.sentSummary(); !equalStrings(got, want) {
		t.Errorf("notifications = %v\nwant %v", got, want)
	}
}

func TestPage_NotificationRulesOverrideTheDefaults(t *testing.T) {
	r := newPageRig(t)
	r.person("user:alice", "alice", 1, alice,
		paging.NotificationRule{Medium: klaxon.Voice, DelaySeconds: 0},
		paging.NotificationRule{Medium: klaxon.SMS, DelaySeconds: 60},
		paging.NotificationRule{Medium: klaxon.Email, DelaySeconds: 60})
	r.at(5*time.Minute, func() { r.update(UpdateAck, paging.Action{By: "alice"}, nil, nil) })
	r.run(page("user:alice"), time.Hour)
	if got := r.sentSummary(); !equalStrings(got, []string{"voice@0s", "sms@1m0s", "email@1m0s"}) {
		t.Errorf("notifications = %v", got)
	}
}

func TestPage_LateAcksAreRefusedWithTheirReason(t *testing.T) {
	r := newPageRig(t)
	r.person("user:alice", "alice", 1, alice)
	var second, afterResolve error
	var resolved paging.ActionResult
	r.at(10*time.Second, func() { r.update(UpdateAck, paging.Action{By: "alice"}, nil, nil) })
	r.at(20*time.Second, func() { r.update(UpdateAck, paging.Action{By: "bob"}, nil, &second) })
	r.at(30*time.Second, func() {
		r.update(UpdateResolve, paging.Action{By: "bob"}, &resolved, nil)
		r.update(UpdateAck, paging.Action{By: "carol"}, nil, &afterResolve)
	})
	out := r.run(page("user:alice"), time.Hour)
	var ae *temporal.ApplicationError
	if !errors.As(second, &ae) || ae.Type() != paging.ErrTypeAcked || !strings.Contains(ae.Error(), "alice") {
		t.Errorf("second ack: %v, want refused as already acknowledged by alice", second)
	}
	if !errors.As(afterResolve, &ae) || ae.Type() != paging.ErrTypeResolved {
		t.Errorf("ack after resolve: %v, want refused as resolved", afterResolve)
	}
	var details paging.ActionResult
	if ae != nil && (ae.Details(&details) != nil || details.Status != paging.StatusResolved || details.By != "bob") {
		t.Errorf("refusal details = %+v", details)
	}
	if !resolved.Changed || out.AckedBy != "alice" || out.ResolvedBy != "bob" {
		t.Errorf("resolve = %+v, result = %+v", resolved, out)
	}
	if len(r.statuses) != 2 {
		t.Errorf("statuses recorded %d times, want 2 (ack, resolve): refused updates change nothing", len(r.statuses))
	}
}

func TestPage_ResolveWithoutAckStopsEverything(t *testing.T) {
	r := newPageRig(t)
	r.person("user:alice", "alice", 1, alice)
	out := r.run(page("user:alice"), 3*time.Minute)
	if got := r.sentSummary(); !equalStrings(got, []string{"sms@0s", "voice@2m0s"}) {
		t.Errorf("notifications = %v", got)
	}
	if out.Status != paging.StatusResolved || out.AckedBy != "" {
		t.Errorf("result = %+v", out)
	}
}

// TestPage_NoNotificationAfterAckAcrossRandomTimings acknowledges pages at
// 1,000 random moments — between timers, while a text waits for the rate
// limit, during a retry — with random rate-limit waits and provider
// failures, and counts notifications handed to a provider after the ack.
func TestPage_NoNotificationAfterAckAcrossRandomTimings(t *testing.T) {
	runs := 1000
	if testing.Short() {
		runs = 100
	}
	rng := rand.New(rand.NewPCG(5, 1234))
	after, before := 0, 0
	for i := range runs {
		ackAt := time.Duration(rng.Int64N(int64(26 * time.Minute)))
		queue := time.Duration(rng.Int64N(int64(45 * time.Second)))
		limited := rng.IntN(3) == 0
		failSMS := rng.IntN(5) == 0
		blast := rng.IntN(4) == 0
		r := newPageRig(t)
		r.person("user:alice", "alice", 1, alice)
		r.person("user:alice", "bob", 2, []string{"sms:+15555550124", "email:bob@example.com"})
		r.first = func(m klaxon.Message) error {
			switch {
			case failSMS && m.Medium == klaxon.SMS:
				return temporal.NewNonRetryableApplicationError("undeliverable", "InvalidNumber", nil)
			case limited:
				return temporal.NewApplicationError("sending number is at its rate limit", activities.ErrTypeRateLimit)
			}
			return nil
		}
		r.queue = func(klaxon.Message) time.Duration { return queue }
		r.at(ackAt, func() { r.update(UpdateAck, paging.Action{By: "alice"}, nil, nil) })
		in := page("user:alice")
		if blast {
			in.Mode = paging.ModeBlast
		}
		r.run(in, ackAt+time.Hour)
		for _, s := range r.sent {
			if s.At > ackAt {
				after++
				t.Errorf("run %d: %s %s sent at %s, after the ack at %s", i, s.ID, s.Medium, s.At, ackAt)
			} else {
				before++
			}
		}
	}
	t.Logf("%d runs: %d notifications before the ack, %d after", runs, before, after)
}

func TestPageText_FitsOneSegmentAndKeepsTheInstructions(t *testing.T) {
	tests := []struct {
		name      string
		id        int64
		code      int
		summary   string
		requester string
		want      string
	}{
		{"page id and reply code are two things", 2, 1, "api latency high", "", "Page #2: api latency high. Reply 1a to ack, 1c to resolve."},
		{"asked by a person", 40, 12, "derp is broken", "alincoln", "alincoln needs you now (page #40): derp is broken. Reply 12a to ack, 12c to resolve."},
		{"keeps its own punctuation", 3, 3, "is the db down?", "", "Page #3: is the db down? Reply 3a to ack, 3c to resolve."},
		{"newlines become spaces", 3, 3, "disk full\n\non db-1", "", "Page #3: disk full on db-1. Reply 3a to ack, 3c to resolve."},
		{"long summary shortened", 3, 3, strings.Repeat("replication lag ", 20), "",
			"Page #3: replication lag replication lag replication lag replication lag replication lag replication lag replication lag... Reply 3a to ack, 3c to resolve."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := PageText(tc.id, tc.code, tc.summary, tc.requester)
			if got != tc.want {
				t.Errorf("PageText =\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}

func TestPageEmail_NamesThePageAndTheReplyCode(t *testing.T) {
	subject, body := pageEmail(PageInput{PageID: 2, Summary: "api latency high", Brand: "Klaxon"}, 1)
	if want := "[Klaxon] Page #2: api latency high"; subject != want {
		t.Errorf("subject = %q, want %q", subject, want)
	}
	for _, want := range []string{"Page #2 is open", "reply code on your phone is 1", "text 1a", "klaxon ack 2"} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %q:\n%s", want, body)
		}
	}
}

// An acknowledgement whose record cannot be written (Postgres refusing it,
// or down) changes nothing: the update fails, the page stays open and
// keeps escalating, and a later acknowledgement that is written stops it.
func TestPage_AckThatCannotBeRecordedLeavesThePageEscalating(t *testing.T) {
	r := newPageRig(t)
	r.person("user:alice", "alice", 1, alice)
	r.refuse = func(in activities.PageStatusInput) error {
		if in.By == "ops\x00bot" {
			return temporal.NewNonRetryableApplicationError("invalid byte sequence for encoding UTF8: 0x00", "Invalid", nil)
		}
		return nil
	}
	var failed error
	var state PageState
	r.at(30*time.Second, func() { r.update(UpdateAck, paging.Action{By: "ops\x00bot", Via: "api"}, nil, &failed) })
	r.at(60*time.Second, func() {
		v, err := r.env.QueryWorkflow(QueryState)
		if err == nil {
			err = v.Get(&state)
		}
		if err != nil {
			t.Error(err)
		}
	})
	var acked paging.ActionResult
	r.at(3*time.Minute, func() { r.update(UpdateAck, paging.Action{By: "alice", Via: "sms"}, &acked, nil) })
	out := r.run(page("user:alice"), time.Hour)
	if failed == nil {
		t.Error("the ack whose record failed was answered as a success")
	}
	if state.Status != paging.StatusOpen || state.AckedBy != "" {
		t.Errorf("state after the failed ack = %s by %q, want open", state.Status, state.AckedBy)
	}
	if got := r.sentSummary(); !equalStrings(got, []string{"sms@0s", "voice@2m0s"}) {
		t.Errorf("notifications = %v, want the text and the call before the ack that was written", got)
	}
	if !acked.Changed || out.AckedBy != "alice" {
		t.Errorf("second ack = %+v, result = %+v", acked, out)
	}
}

func TestPage_EscalateNowRunsTheNextStepAtOnce(t *testing.T) {
	r := newPageRig(t)
	sms := []paging.NotificationRule{{Medium: klaxon.SMS}}
	r.person("user:alice", "alice", 1, alice, sms...)
	r.person("user:bob", "bob", 2, []string{"sms:+15555550124"}, sms...)
	r.policies["db"] = paging.Policy{Name: "db", Steps: []paging.PolicyStep{
		{Targets: []string{"user:alice"}, DelaySeconds: 600},
		{Targets: []string{"user:bob"}, DelaySeconds: 600},
	}}
	var res paging.ActionResult
	r.at(30*time.Second, func() { r.update(UpdateEscalate, paging.Action{By: "alice", Via: "console"}, &res, nil) })
	var refused error
	r.at(40*time.Second, func() { r.update(UpdateAck, paging.Action{By: "bob"}, nil, nil) })
	r.at(50*time.Second, func() { r.update(UpdateEscalate, paging.Action{By: "bob"}, nil, &refused) })
	r.run(page("policy:db"), time.Hour)
	// Bob's step, due at 10 minutes, ran at 30 s.
	if got := r.sentSummary(); !equalStrings(got, []string{"sms@0s", "sms@30s"}) {
		t.Errorf("notifications = %v, want alice at once and bob at the escalation", got)
	}
	if !res.Changed || res.By != "alice" {
		t.Errorf("escalate answered %+v", res)
	}
	if refused == nil {
		t.Error("an acknowledged page took an escalation")
	}
}
