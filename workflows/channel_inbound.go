package workflows

import (
	"strconv"
	"strings"

	"go.temporal.io/sdk/workflow"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/activities"
	"github.com/klaxonhq/klaxon/channel"
	"github.com/klaxonhq/klaxon/redact"
)

// channelText handles a text sent to an SMS channel's number (or the signup
// or diagnostics channel), sending its own replies from the channel's
// number. It reports handled=false when the number belongs to no channel.
// Every message id derives from the text's MessageSid, so a replayed or
// retried inbound workflow never texts anyone twice.
func channelText(ctx workflow.Context, t InboundText) (handled bool, err error) {
	var lk activities.LookupChannelResult
	if err := channelAct(ctx, ActivityLookupChannel, activities.LookupChannelInput{To: t.To, From: t.From, EventID: t.EventID}, &lk); err != nil {
		return false, err
	}
	if !lk.Found {
		return false, nil
	}
	if lk.FromOurs {
		workflow.GetLogger(ctx).Warn("text from one of our own numbers ignored", "channel", lk.Channel.ID, "event", t.EventID)
		return true, nil
	}
	h := &channelTextHandler{ctx: ctx, t: t, ch: lk.Channel, role: channel.Role(lk.Role), st: lk.Settings}
	return true, h.handle()
}

// channelTextHandler acts on one text to one channel.
type channelTextHandler struct {
	ctx  workflow.Context
	t    InboundText
	ch   channel.Channel
	role channel.Role
	st   activities.ChannelSettings
}

// party is a person's number as a channel workflow holds it: a reference
// the activities resolve ("sender:ID", "claim:ID", "member:ID"), or, in a
// history recorded before references, the number itself.
type party struct{ number, ref string }

// byRef is the party a reference names.
func byRef(ref string) party { return party{ref: ref} }

// sender is who sent the text.
func (h *channelTextHandler) sender() party {
	if h.t.From != "" {
		return party{number: h.t.From}
	}
	return byRef(senderRef(h.t.EventID))
}

// shown is the party as a message body quotes it.
func (p party) shown() string {
	if p.ref != "" {
		return klaxon.Placeholder(p.ref)
	}
	return p.number
}

// address sets m's recipient to p.
func (p party) address(m klaxon.Message) klaxon.Message {
	m.To, m.ToRef = p.number, p.ref
	return m
}

// membership is the membership input naming p.
func (p party) membership(channelID int64, role string) activities.MembershipInput {
	return activities.MembershipInput{ChannelID: channelID, Phone: p.number, Ref: p.ref, Role: role}
}

// memberParty is a channel member as a message's recipient.
func memberParty(m channel.Member) party {
	if m.Phone != "" {
		return party{number: m.Phone}
	}
	return byRef("member:" + strconv.FormatInt(m.ID, 10))
}

// command is a channel text understood, with references to its private
// parts; text quotes them in message bodies.
type command struct {
	kind            channel.Kind
	hotlineID       string
	text, errorText string
	number, admins  party
	shown           string
	legacyAdmins    []string
}

// versionChannelTextByRef marks inbound workflows that read a channel
// text at the edge (ActivityReadChannelText) instead of in the workflow,
// which no longer gets its words.
const versionChannelTextByRef = "channel-text-by-ref"

// readCommand parses the text: at the edge, by an activity that hands back
// references, or (a workflow that began before references, whose history
// carries the words) here.
func (h *channelTextHandler) readCommand(signup bool) (command, error) {
	if workflow.GetVersion(h.ctx, versionChannelTextByRef, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		c := channel.Parse(h.t.Body, channel.Context{Role: h.role, Signup: signup})
		return command{kind: c.Kind, hotlineID: c.HotlineID, text: c.Text, errorText: c.Error,
			number: party{number: c.Number}, shown: redact.Number(c.Number), legacyAdmins: c.Admins}, nil
	}
	var c activities.ChannelCommand
	if err := channelAct(h.ctx, ActivityReadChannelText, activities.ReadChannelTextInput{
		EventID: h.t.EventID, Role: h.role, Signup: signup,
	}, &c); err != nil {
		return command{}, err
	}
	quote := func(ref string) string {
		if ref == "" {
			return ""
		}
		return klaxon.Placeholder(ref)
	}
	return command{kind: c.Kind, hotlineID: c.HotlineID, text: quote(c.Text), errorText: quote(c.Error),
		number: byRef(c.Number), admins: byRef(c.Admins), shown: c.Shown}, nil
}

// id is a deterministic message id for this text's replies.
func (h *channelTextHandler) id(suffix string) string { return "ch/" + h.t.SID + "/" + suffix }

// reply answers the sender from the channel's number.
func (h *channelTextHandler) reply(body string) {
	h.send(h.sender(), "reply", body)
}

func (h *channelTextHandler) send(to party, suffix, body string) {
	sendAllWithin(h.ctx, []klaxon.Message{to.address(klaxon.Message{ID: h.id(suffix), Medium: klaxon.SMS, From: h.ch.Phone,
		Body: body, Priority: klaxon.Normal, Purpose: "channel", Ref: channelRef(h.ch.ID)})}, 1, channelReplyGiveUp)
}

// toAdmins sends body to every admin of the channel.
func (h *channelTextHandler) toAdmins(suffix, body string) error {
	var admins []channel.Member
	if err := channelAct(h.ctx, ActivityChannelMembers, activities.MembersInput{ChannelID: h.ch.ID, Role: channel.MemberAdmin}, &admins); err != nil {
		return err
	}
	sendAllWithin(h.ctx, toMembers(h.id(suffix), h.ch.Phone, body, "channel", channelRef(h.ch.ID), admins), 20, channelReplyGiveUp)
	return nil
}

func (h *channelTextHandler) handle() error {
	logger := workflow.GetLogger(h.ctx)
	if h.ch.DeletedAt != nil {
		h.reply(channel.DeletedChannelText(h.st.Brand))
		return nil
	}
	signup := h.ch.Kind == channel.KindSignup
	cmd, err := h.readCommand(signup)
	if err != nil {
		return err
	}
	logger.Info("channel text", "channel", h.ch.ID, "event", h.t.EventID, "role", string(h.role), "command", cmd.kind.String())
	admin := h.role == channel.RoleAdmin
	switch cmd.kind {
	case channel.KindHelp:
		h.reply(channel.HelpText(h.role, signup))
	case channel.KindInfo:
		if admin {
			h.reply(channel.InfoAdminText(h.ch.Phone, h.ch.Admins, h.ch.Subscribers, h.ch.HotlineOn))
		} else {
			h.reply(channel.InfoText(h.ch.HotlineOn))
		}
	case channel.KindJoin:
		var r activities.JoinResult
		if err := channelAct(h.ctx, ActivityJoinChannel, h.sender().membership(h.ch.ID, channel.MemberSubscriber), &r); err != nil {
			return err
		}
		if r.Changed {
			h.reply(channel.JoinedText())
		} else {
			h.reply(channel.AlreadyMemberText())
		}
	case channel.KindLeave:
		var r activities.LeaveResult
		if err := channelAct(h.ctx, ActivityLeaveChannel, h.sender().membership(h.ch.ID, ""), &r); err != nil {
			return err
		}
		switch {
		case r.LastAdmin:
			h.reply(channel.LastAdminText())
		case r.Removed:
			h.reply(channel.LeftText())
		default:
			h.reply(channel.NotMemberText())
		}
	case channel.KindOptOut:
		// The backbone has recorded the opt-out; the channel takes them
		// off (the last admin stays, or the channel would be orphaned) and
		// confirms, past the opt-out, as the carrier would.
		var r activities.LeaveResult
		if err := channelAct(h.ctx, ActivityLeaveChannel, h.sender().membership(h.ch.ID, ""), &r); err != nil {
			return err
		}
		sendAllWithin(h.ctx, []klaxon.Message{h.sender().address(klaxon.Message{ID: h.id("reply"), Medium: klaxon.SMS, From: h.ch.Phone,
			Body: channel.OptedOutText(), Priority: klaxon.Normal, IgnoreOptOut: true, Purpose: "channel", Ref: channelRef(h.ch.ID)})}, 1, channelReplyGiveUp)
	case channel.KindOptIn:
		h.reply(channel.OptedInText())
	case channel.KindBroadcast:
		return h.broadcast(cmd.text)
	case channel.KindHotlineOn, channel.KindHotlineOff:
		on := cmd.kind == channel.KindHotlineOn
		var ignored any
		if err := channelAct(h.ctx, ActivitySetHotline, activities.SetHotlineInput{ChannelID: h.ch.ID, On: on}, &ignored); err != nil {
			return err
		}
		return h.toAdmins("hotline", channel.HotlineChangedText(on))
	case channel.KindAdd:
		return h.add(cmd.number)
	case channel.KindRemove:
		return h.remove(cmd.number)
	case channel.KindReply:
		return h.replyToHotline(cmd.hotlineID, cmd.text)
	case channel.KindRequest:
		h.reply(channel.RequestText(h.st.Brand, h.st.Links))
	case channel.KindChannel:
		return h.requestChannel(cmd)
	case channel.KindInvalid:
		h.reply(cmd.errorText)
	case channel.KindAdminOnly:
		h.reply(channel.AdminOnlyText())
	default:
		return h.message()
	}
	return nil
}

// message handles a text that is no command: the seed's sad paths.
func (h *channelTextHandler) message() error {
	switch {
	case h.role == channel.RoleAdmin:
		h.reply(channel.NoCommandText())
	case h.ch.HotlineOn:
		var hid string
		if err := channelAct(h.ctx, ActivityHotlineID, activities.HotlineIDInput{ChannelID: h.ch.ID, Sender: h.t.From, EventID: h.t.EventID}, &hid); err != nil {
			return err
		}
		if err := h.toAdmins("hotline", channel.HotlineMessageText(hid, h.words())); err != nil {
			return err
		}
		h.reply(channel.HotlineForwardedText())
	default:
		h.reply(channel.DidntUnderstandText())
	}
	return nil
}

// words is the text itself as a message body quotes it.
func (h *channelTextHandler) words() string {
	if h.t.Body != "" {
		return h.t.Body
	}
	return klaxon.Placeholder("text:" + strconv.FormatInt(h.t.EventID, 10))
}

// isOurs reports whether a number written in clear (a history recorded
// before references) is one of ours; a number by reference is checked by
// the join activity.
func (h *channelTextHandler) isOurs(p party) bool {
	n := p.number
	return n != "" && (n == h.ch.Phone || n == h.st.PagingNumber || n == h.st.SignupNumber || n == h.st.DiagnosticsNumber)
}

func (h *channelTextHandler) add(number party) error {
	if h.isOurs(number) {
		h.reply(channel.OwnNumberText(h.st.Brand, number.shown()))
		return nil
	}
	var r activities.JoinResult
	if err := channelAct(h.ctx, ActivityJoinChannel, number.membership(h.ch.ID, channel.MemberAdmin), &r); err != nil {
		return err
	}
	if r.Ours {
		h.reply(channel.OwnNumberText(h.st.Brand, number.shown()))
		return nil
	}
	if !r.Changed {
		h.reply(channel.AlreadyAdminText(number.shown()))
		return nil
	}
	// The new admin learns who added them: a fellow admin.
	h.send(number, "welcome", channel.WelcomeAdminText(h.st.Brand, h.sender().shown(), h.ch.Phone, h.st.Links))
	h.reply(channel.AddedText(number.shown()))
	return nil
}

func (h *channelTextHandler) remove(number party) error {
	in := number.membership(h.ch.ID, channel.MemberAdmin)
	if number.ref != "" {
		in.By = h.sender().ref
	}
	var r activities.LeaveResult
	if err := channelAct(h.ctx, ActivityLeaveChannel, in, &r); err != nil {
		return err
	}
	self := r.Self
	if number.ref == "" {
		self = number.number == h.t.From
	}
	switch {
	case r.LastAdmin:
		h.reply(channel.LastAdminText())
	case r.Removed:
		if !self {
			h.send(number, "removed", channel.RemovedNoticeText())
		}
		h.reply(channel.RemovedText(number.shown()))
	default:
		h.reply(channel.NotAnAdminText(number.shown()))
	}
	return nil
}

func (h *channelTextHandler) replyToHotline(hid, text string) error {
	var sender string
	if err := channelAct(h.ctx, ActivityHotlineSender, activities.HotlineIDInput{ChannelID: h.ch.ID, ID: hid}, &sender); err != nil {
		return err
	}
	if sender == "" {
		h.reply(channel.NoSuchHotlineIDText(hid))
		return nil
	}
	to := party{number: sender}
	if strings.HasPrefix(sender, "claim:") {
		to = byRef(sender)
	}
	h.send(to, "private-reply", channel.PrivateReplyText(text))
	return h.toAdmins("reply-copy", channel.ReplyCopyText(hid, text))
}

// broadcast starts the Broadcast workflow, which outlives this one. text
// quotes the words by reference (or holds them, in an old history).
func (h *channelTextHandler) broadcast(text string) error {
	in := BroadcastInput{BroadcastID: BroadcastWorkflowID(h.t.SID), ChannelID: h.ch.ID, ChannelPhone: h.ch.Phone, Text: text}
	return startChild(h.ctx, broadcastStart(in), in)
}

// requestChannel applies the flood limit, then starts ChannelCreate, which
// outlives this workflow and answers the requester itself.
func (h *channelTextHandler) requestChannel(cmd command) error {
	id := ChannelCreateWorkflowID(h.t.SID)
	requester := h.sender()
	var admitted bool
	if err := channelAct(h.ctx, ActivityAdmitChannelRequest, activities.AdmitInput{
		RequestID: id, Requester: requester.number, RequesterRef: requester.ref, Source: "sms",
	}, &admitted); err != nil {
		return err
	}
	if !admitted {
		h.reply(channel.TooManyRequestsText())
		return nil
	}
	in := ChannelCreateInput{RequestID: id, Requester: requester.number, RequesterRef: requester.ref,
		Admins: cmd.legacyAdmins, AdminsRef: cmd.admins.ref}
	return startChild(h.ctx, channelCreateStart(in), in)
}
