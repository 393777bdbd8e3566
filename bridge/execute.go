package bridge

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/activities"
	"github.com/klaxonhq/klaxon/chat"
	"github.com/klaxonhq/klaxon/pager"
	"github.com/klaxonhq/klaxon/paging"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/workflows"
)

// help is the answer to "help" and the hint after an unknown command.
const help = "commands: poke NAME, sms NAME MESSAGE, get NAME now: MESSAGE, page TARGET: MESSAGE, ack ID, resolve ID, pages, oncall [ROTATION]"

// request is one durable chat line being answered.
type request struct {
	n   *Network
	in  store.ChatInbound
	cmd command
	// to is where answers go: the channel, or the asker privately.
	to string
}

// answer is a line to the asker, where they asked: in the thread of the
// line they gave (a ✅ on a page's message, "ack 12" in its thread), if
// any, not in the room's main timeline.
func (r request) answer(format string, args ...any) chat.Outgoing {
	return chat.Outgoing{Target: r.to, Text: r.in.Nick + ": " + fmt.Sprintf(format, args...), ThreadOf: r.in.ThreadOf}
}

// execute runs a chat line's command and returns what to say.
func (b *Bridge) execute(ctx context.Context, n *Network, in store.ChatInbound) []chat.Outgoing {
	cmd, _ := addressed(in.Body, b.nick(n), in.Private)
	r := request{n: n, in: in, cmd: cmd, to: replyTarget(in.Private, in.Target, in.Nick)}
	out, err := b.run(ctx, r)
	if err != nil {
		b.d.Logger.Error("chat command failed", "network", n.Name(), "command", cmd.name, "line", in.ID, "error", err)
		return []chat.Outgoing{r.answer("sorry, that did not work just now (%s); try again in a minute.", klaxon.ErrorMessageOf(err))}
	}
	return out
}

func (b *Bridge) run(ctx context.Context, r request) ([]chat.Outgoing, error) {
	switch r.cmd.name {
	case cmdPoke:
		return b.poke(ctx, r)
	case cmdHelp, "":
		return []chat.Outgoing{r.answer("%s", help)}, nil
	case cmdSMS, cmdGet, cmdPage, cmdAck, cmdResolve, cmdPages, cmdOnCall:
	default:
		return []chat.Outgoing{r.answer("I do not know the command %q; %s.", clip(r.cmd.name, 20), help)}, nil
	}
	asker, refusal, err := b.linked(ctx, r)
	if err != nil {
		return nil, err
	}
	if refusal != "" {
		return []chat.Outgoing{r.answer("%s", refusal)}, nil
	}
	switch r.cmd.name {
	case cmdSMS:
		return b.sms(ctx, r, asker)
	case cmdGet:
		return b.getNow(ctx, r, asker)
	case cmdPage:
		return b.page(ctx, r, asker)
	case cmdAck, cmdResolve:
		return b.settle(ctx, r, asker)
	case cmdPages:
		return b.pages(ctx, r)
	default:
		return b.onCall(ctx, r)
	}
}

// linked returns the Klaxon user the asker is, or a refusal: their nick
// (Matrix id) must belong to an active user and, where the network
// vouches for identities, their account must be that user's.
func (b *Bridge) linked(ctx context.Context, r request) (store.User, string, error) {
	var u store.User
	var err error
	if r.n.Name() == chat.Matrix {
		u, err = b.d.Store.UserByMatrixID(ctx, r.in.Nick)
	} else {
		u, err = b.d.Store.UserByNick(ctx, r.in.Nick)
	}
	switch {
	case klaxon.ErrorCodeOf(err) == klaxon.ENotFound || err == nil && !u.Active:
		return u, fmt.Sprintf("you are not linked to anyone in Klaxon (no one's %s is %s), so you can only poke.", nameKind(r.n), r.in.Nick), nil
	case err != nil:
		return u, "", err
	}
	if !r.n.Vouches() {
		if r.n.TrustNicks {
			return u, "", nil
		}
		return u, "this server vouches for no one's nick, so only poke works here.", nil
	}
	acct := r.in.Account
	ok := acct != "" && (strings.EqualFold(acct, u.Nick) || u.IRCAccount != "" && strings.EqualFold(acct, u.IRCAccount))
	if r.n.Name() == chat.Matrix {
		ok = acct == "" || acct == u.MatrixID
	}
	if !ok {
		return u, fmt.Sprintf("you are not logged in as %s's account, so you can only poke.", u.Nick), nil
	}
	return u, "", nil
}

func nameKind(n *Network) string {
	if n.Name() == chat.Matrix {
		return "Matrix id"
	}
	return "nick"
}

// person resolves a chat name (a nick or a handle) to one active user, or
// a refusal.
func (b *Bridge) person(ctx context.Context, name string) (store.User, string, error) {
	if name == "" {
		return store.User{}, "whom? Give a nick or a handle.", nil
	}
	us, err := b.d.Store.UsersByName(ctx, name)
	switch {
	case err != nil:
		return store.User{}, "", err
	case len(us) == 0:
		return store.User{}, fmt.Sprintf("I know no one called %s.", clip(name, 32)), nil
	case len(us) > 1:
		return store.User{}, fmt.Sprintf("%s is ambiguous: it is %s's nick and %s's handle; use the other name.",
			clip(name, 32), nickOf(us, name), handleOf(us, name)), nil
	}
	return us[0], "", nil
}

func nickOf(us []store.User, name string) string {
	for _, u := range us {
		if strings.EqualFold(u.Nick, name) {
			return u.Handle
		}
	}
	return us[0].Handle
}

func handleOf(us []store.User, name string) string {
	for _, u := range us {
		if u.Handle == strings.ToLower(name) {
			return u.Handle
		}
	}
	return us[1].Handle
}

// poke answers "NICK is Full Name <time:Tue 15:04 CET> <mobile:…0123>":
// the person's local time, and their mobile — only its last four digits in
// a channel, the whole number privately to a linked user.
func (b *Bridge) poke(ctx context.Context, r request) ([]chat.Outgoing, error) {
	name, _ := splitName(r.cmd.args)
	u, refusal, err := b.person(ctx, name)
	if err != nil {
		return nil, err
	}
	if refusal != "" {
		return []chat.Outgoing{r.answer("%s", refusal)}, nil
	}
	loc, err := time.LoadLocation(u.Timezone)
	if err != nil {
		loc = time.UTC
	}
	fullName := u.Name
	if fullName == "" {
		fullName = u.Handle
	}
	text := fmt.Sprintf("%s is %s <time:%s>", u.Nick, fullName, b.d.Clock.Now().In(loc).Format("Mon 15:04 MST"))
	number, err := b.d.Store.VerifiedPhone(ctx, u.ID)
	switch {
	case klaxon.ErrorCodeOf(err) == klaxon.ENotFound:
	case err != nil:
		return nil, err
	default:
		whole := false
		if r.in.Private {
			_, refusal, err := b.linked(ctx, r)
			if err != nil {
				return nil, err
			}
			whole = refusal == ""
		}
		if whole {
			text += " <mobile:" + number + ">"
		} else {
			text += " <mobile:…" + lastDigits(number, 4) + ">"
		}
	}
	return []chat.Outgoing{r.answer("%s", text)}, nil
}

func lastDigits(number string, n int) string {
	if len(number) <= n {
		return number
	}
	return number[len(number)-n:]
}

// sms texts a person "ASKER> MESSAGE" from the paging number, through the
// delivery pipeline like any API message.
func (b *Bridge) sms(ctx context.Context, r request, asker store.User) ([]chat.Outgoing, error) {
	name, msg := splitName(r.cmd.args)
	if msg == "" {
		return []chat.Outgoing{r.answer("write sms NAME MESSAGE.")}, nil
	}
	u, refusal, err := b.person(ctx, name)
	if err != nil {
		return nil, err
	}
	if refusal != "" {
		return []chat.Outgoing{r.answer("%s", refusal)}, nil
	}
	number, err := b.d.Store.VerifiedPhone(ctx, u.ID)
	if klaxon.ErrorCodeOf(err) == klaxon.ENotFound {
		return []chat.Outgoing{r.answer("%s has no verified mobile number, so I cannot text them.", u.Nick)}, nil
	}
	if err != nil {
		return nil, err
	}
	m := klaxon.Message{
		ID: fmt.Sprintf("chat-%s-%d", r.n.Name(), r.in.ID), Medium: klaxon.SMS, From: b.d.FromNumber, To: number,
		Body: clip(r.in.Nick+"> "+msg, klaxon.MaxBodyLen), Priority: klaxon.Normal, Purpose: "chat",
		Ref: strconv.FormatInt(r.in.ID, 10),
	}
	if err := b.d.Store.RecordChatSMS(ctx, store.ChatSMS{
		MessageID: m.ID, Network: r.n.Name(), ReplyTo: r.to, Asker: r.in.Nick, Nick: u.Nick,
	}); err != nil {
		return nil, err
	}
	// As an API message: the record holds the number and the words, the
	// workflow only the envelope.
	if err := b.d.Start.QueueMessage(ctx, b.d.Store, m); err != nil {
		return nil, err
	}
	return []chat.Outgoing{r.answer("your text to %s is on its way.", activities.Unhighlight(u.Nick))}, nil
}

// getNow is a blast page: SMS "ASKER needs you in #CHANNEL now: MESSAGE"
// (with its reply code), call and email at once, and a private chat line.
func (b *Bridge) getNow(ctx context.Context, r request, asker store.User) ([]chat.Outgoing, error) {
	name, msg, ok := splitGet(r.cmd.args)
	if !ok || msg == "" {
		return []chat.Outgoing{r.answer("write get NAME now: MESSAGE.")}, nil
	}
	u, refusal, err := b.person(ctx, name)
	if err != nil {
		return nil, err
	}
	if refusal != "" {
		return []chat.Outgoing{r.answer("%s", refusal)}, nil
	}
	where := r.in.Target
	if r.in.Private {
		where = r.n.Team
	}
	summary := fmt.Sprintf("%s needs you in %s now: %s", r.in.Nick, where, msg)
	pg, refusal, err := b.openPage(ctx, r, pager.Request{
		Target: paging.TargetUser + ":" + u.Handle, Summary: clip(summary, 1000), Mode: paging.ModeBlast,
		RequestedBy: asker.Handle,
	})
	if err != nil || refusal != "" {
		return []chat.Outgoing{r.answer("%s", refusal)}, err
	}
	out := []chat.Outgoing{r.answer("paging %s now on every channel (page %d).", activities.Unhighlight(u.Nick), pg.ID)}
	if r.n.Name() != chat.Matrix || u.MatrixID != "" {
		to := u.Nick
		if r.n.Name() == chat.Matrix {
			to = u.MatrixID
		}
		out = append(out, chat.Outgoing{Target: to, Text: fmt.Sprintf("%s (page %d; ack %d to acknowledge)", summary, pg.ID, pg.ID)})
	}
	return out, nil
}

// page opens an escalating page: TARGET as the API takes it, or a name.
func (b *Bridge) page(ctx context.Context, r request, asker store.User) ([]chat.Outgoing, error) {
	target, msg, ok := splitPage(r.cmd.args)
	if !ok {
		return []chat.Outgoing{r.answer("write page TARGET: MESSAGE (TARGET a name, user:HANDLE, rotation:NAME or policy:NAME).")}, nil
	}
	if !strings.Contains(target, ":") {
		u, refusal, err := b.person(ctx, target)
		if err != nil || refusal != "" {
			return []chat.Outgoing{r.answer("%s", refusal)}, err
		}
		target = paging.TargetUser + ":" + u.Handle
	}
	pg, refusal, err := b.openPage(ctx, r, pager.Request{Target: target, Summary: clip(msg, 1000), RequestedBy: asker.Handle})
	if err != nil || refusal != "" {
		return []chat.Outgoing{r.answer("%s", refusal)}, err
	}
	return []chat.Outgoing{r.answer("page %d is open for %s.", pg.ID, unhighlightTarget(pg.Target))}, nil
}

// openPage opens a page the way the API does; a refusal is the API's
// sentence for bad input.
func (b *Bridge) openPage(ctx context.Context, r request, req pager.Request) (paging.Page, string, error) {
	req.DedupKey = fmt.Sprintf("chat/%s/%d", r.n.Name(), r.in.ID)
	pg, _, err := pager.Open(ctx, b.d.Store, b.d.Start, b.d.Logger, req)
	switch klaxon.ErrorCodeOf(err) {
	case "":
		return pg, "", nil
	case klaxon.EInvalid, klaxon.EUnprocessable, klaxon.ENotFound:
		return pg, klaxon.ErrorMessageOf(err), nil
	}
	return pg, "", err
}

// settle acknowledges or resolves a page through its workflow, as the API
// does.
func (b *Bridge) settle(ctx context.Context, r request, asker store.User) ([]chat.Outgoing, error) {
	raw := strings.TrimPrefix(strings.TrimSpace(r.cmd.args), "#")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return []chat.Outgoing{r.answer("write %s ID, with the page's number.", r.cmd.name)}, nil
	}
	pg, err := b.d.Store.GetPage(ctx, id)
	if klaxon.ErrorCodeOf(err) == klaxon.ENotFound {
		return []chat.Outgoing{r.answer("there is no page %d.", id)}, nil
	}
	if err != nil {
		return nil, err
	}
	update, status := workflows.UpdateAck, paging.StatusAcked
	if r.cmd.name == cmdResolve {
		update, status = workflows.UpdateResolve, paging.StatusResolved
	}
	if pg.Status == paging.StatusResolved {
		return []chat.Outgoing{r.answer("page %d is already resolved%s.", id, byClause(pg.ResolvedBy))}, nil
	}
	actx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	res, err := pager.Apply(actx, b.d.Temporal, b.d.Store, pager.Update{
		PageID: id, WorkflowID: workflows.PageWorkflowID(b.d.Start.TaskQueue, id), Name: update, Status: status,
		Action: paging.Action{By: asker.Handle, Via: "chat"},
	})
	if err != nil {
		return nil, err
	}
	switch {
	case res.Changed && status == paging.StatusAcked:
		return []chat.Outgoing{r.answer("page %d acknowledged; every pending notification is canceled.", id)}, nil
	case res.Changed:
		return []chat.Outgoing{r.answer("page %d resolved.", id)}, nil
	case res.Status == paging.StatusResolved:
		return []chat.Outgoing{r.answer("page %d was already resolved%s.", id, byClause(res.By))}, nil
	}
	return []chat.Outgoing{r.answer("page %d was already acknowledged%s.", id, byClause(res.By))}, nil
}

func byClause(by string) string {
	if by == "" {
		return ""
	}
	return " by " + activities.Unhighlight(by)
}

// pages lists the pages that are open or acknowledged.
func (b *Bridge) pages(ctx context.Context, r request) ([]chat.Outgoing, error) {
	var live []paging.Page
	for _, st := range []string{paging.StatusOpen, paging.StatusAcked} {
		ps, err := b.d.Store.ListPages(ctx, st, 20)
		if err != nil {
			return nil, err
		}
		live = append(live, ps...)
	}
	if len(live) == 0 {
		return []chat.Outgoing{r.answer("no open pages.")}, nil
	}
	parts := make([]string, 0, len(live))
	for _, p := range live {
		s := fmt.Sprintf("%d %s (%s", p.ID, unhighlightTarget(p.Target), p.Status)
		if p.Status == paging.StatusAcked {
			s += byClause(p.AckedBy)
		}
		parts = append(parts, s+"): "+clip(p.Summary, 60))
	}
	return []chat.Outgoing{r.answer("%d open: %s", len(live), clip(strings.Join(parts, "; "), 400))}, nil
}

// onCall says who is on call in one rotation, or in each.
func (b *Bridge) onCall(ctx context.Context, r request) ([]chat.Outgoing, error) {
	names := strings.Fields(r.cmd.args)
	if len(names) == 0 {
		rs, err := b.d.Store.Rotations(ctx)
		if err != nil {
			return nil, err
		}
		for _, rot := range rs {
			names = append(names, rot.Name)
		}
		if len(names) == 0 {
			return []chat.Outgoing{r.answer("there are no rotations.")}, nil
		}
	}
	now := b.d.Clock.Now()
	parts := make([]string, 0, len(names))
	for _, name := range names {
		oc, err := b.d.Store.OnCall(ctx, strings.ToLower(name), now)
		if klaxon.ErrorCodeOf(err) == klaxon.ENotFound {
			return []chat.Outgoing{r.answer("%s", klaxon.ErrorMessageOf(err))}, nil
		}
		if err != nil {
			return nil, err
		}
		who := "nobody"
		if oc.User != "" {
			who = activities.Unhighlight(oc.User)
			if !oc.Until.IsZero() {
				who += " until " + oc.Until.UTC().Format("Mon 15:04 MST")
			}
		}
		parts = append(parts, oc.Rotation+": "+who)
	}
	return []chat.Outgoing{r.answer("on call: %s", clip(strings.Join(parts, "; "), 400))}, nil
}

// unhighlightTarget writes a page target without highlighting the person
// it names.
func unhighlightTarget(t string) string {
	kind, name, ok := strings.Cut(t, ":")
	if !ok {
		return t
	}
	return kind + ":" + activities.Unhighlight(name)
}
