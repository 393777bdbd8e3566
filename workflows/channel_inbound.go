package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/activities"
	"github.com/klaxonhq/klaxon/channel"
	"github.com/klaxonhq/klaxon/redact"
	"github.com/klaxonhq/klaxon/store"
)

// channelText handles a text sent to an SMS channel's number (or the signup
// or diagnostics channel), sending its own replies from the channel's
// number. It reports handled=false when the number belongs to no channel.
// Every message id derives from the text's MessageSid, so a replayed or
// retried inbound workflow never texts anyone twice.
func channelText(ctx workflow.Context, t InboundText) (handled bool, err error) {
	var lk activities.LookupChannelResult
	if err := channelAct(ctx, ActivityLookupChannel, activities.LookupChannelInput{To: t.To, From: t.From}, &lk); err != nil {
		return false, err
	}
	if !lk.Found {
		return false, nil
	}
	if lk.FromOurs {
		workflow.GetLogger(ctx).Warn("text from one of our own numbers ignored", "channel", lk.Channel.ID, "from", redact.Number(t.From))
		return true, nil
	}
	h := &channelTextHandler{ctx: ctx, t: t, ch: lk.Channel, role: channel.Role(lk.Role), st: lk.Settings}
	return true, h.handle()
}

// channelTextHandler acts on one text to one channel.
type channelTextHandler struct {
	ctx  workflow.Context
	t    InboundText
	ch   store.Channel
	role channel.Role
	st   activities.ChannelSettings
}

// id is a deterministic message id for this text's replies.
func (h *channelTextHandler) id(suffix string) string { return "ch/" + h.t.SID + "/" + suffix }

// reply answers the sender from the channel's number.
func (h *channelTextHandler) reply(body string) {
	h.send(h.t.From, "reply", body)
}

func (h *channelTextHandler) send(to, suffix, body string) {
	sendAllWithin(h.ctx, []klaxon.Message{{ID: h.id(suffix), Medium: klaxon.SMS, From: h.ch.Phone, To: to,
		Body: body, Priority: klaxon.Normal, Purpose: "channel", Ref: channelRef(h.ch.ID)}}, 1, channelReplyGiveUp)
}

// toAdmins sends body to every admin of the channel.
func (h *channelTextHandler) toAdmins(suffix, body string) error {
	var admins []store.Member
	if err := channelAct(h.ctx, ActivityChannelMembers, activities.MembersInput{ChannelID: h.ch.ID, Role: store.RoleAdmin}, &admins); err != nil {
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
	signup := h.ch.Kind == store.KindSignup
	cmd := channel.Parse(h.t.Body, channel.Context{Role: h.role, Signup: signup})
	logger.Info("channel text", "channel", h.ch.ID, "from", redact.Number(h.t.From), "role", string(h.role), "command", cmd.Kind.String())
	admin := h.role == channel.RoleAdmin
	switch cmd.Kind {
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
		if err := channelAct(h.ctx, ActivityJoinChannel, activities.MembershipInput{ChannelID: h.ch.ID, Phone: h.t.From, Role: store.RoleSubscriber}, &r); err != nil {
			return err
		}
		if r.Changed {
			h.reply(channel.JoinedText())
		} else {
			h.reply(channel.AlreadyMemberText())
		}
	case channel.KindLeave:
		var r activities.LeaveResult
		if err := channelAct(h.ctx, ActivityLeaveChannel, activities.MembershipInput{ChannelID: h.ch.ID, Phone: h.t.From}, &r); err != nil {
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
		if err := channelAct(h.ctx, ActivityLeaveChannel, activities.MembershipInput{ChannelID: h.ch.ID, Phone: h.t.From}, &r); err != nil {
			return err
		}
		sendAllWithin(h.ctx, []klaxon.Message{{ID: h.id("reply"), Medium: klaxon.SMS, From: h.ch.Phone, To: h.t.From,
			Body: channel.OptedOutText(), Priority: klaxon.Normal, IgnoreOptOut: true, Purpose: "channel", Ref: channelRef(h.ch.ID)}}, 1, channelReplyGiveUp)
	case channel.KindOptIn:
		h.reply(channel.OptedInText())
	case channel.KindBroadcast:
		return h.broadcast(cmd.Text)
	case channel.KindHotlineOn, channel.KindHotlineOff:
		on := cmd.Kind == channel.KindHotlineOn
		var ignored any
		if err := channelAct(h.ctx, ActivitySetHotline, activities.SetHotlineInput{ChannelID: h.ch.ID, On: on}, &ignored); err != nil {
			return err
		}
		return h.toAdmins("hotline", channel.HotlineChangedText(on))
	case channel.KindAdd:
		return h.add(cmd.Number)
	case channel.KindRemove:
		return h.remove(cmd.Number)
	case channel.KindReply:
		return h.replyToHotline(cmd.HotlineID, cmd.Text)
	case channel.KindRequest:
		h.reply(channel.RequestText(h.st.Brand, h.st.Links))
	case channel.KindChannel:
		return h.requestChannel(cmd.Admins)
	case channel.KindInvalid:
		h.reply(cmd.Error)
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
		if err := channelAct(h.ctx, ActivityHotlineID, activities.HotlineIDInput{ChannelID: h.ch.ID, Sender: h.t.From}, &hid); err != nil {
			return err
		}
		if err := h.toAdmins("hotline", channel.HotlineMessageText(hid, h.t.Body)); err != nil {
			return err
		}
		h.reply(channel.HotlineForwardedText())
	default:
		h.reply(channel.DidntUnderstandText())
	}
	return nil
}

func (h *channelTextHandler) isOurs(number string) bool {
	return number == h.ch.Phone || number == h.st.PagingNumber || number == h.st.SignupNumber || number == h.st.DiagnosticsNumber
}

func (h *channelTextHandler) add(number string) error {
	if h.isOurs(number) {
		h.reply(channel.OwnNumberText(h.st.Brand, number))
		return nil
	}
	var r activities.JoinResult
	if err := channelAct(h.ctx, ActivityJoinChannel, activities.MembershipInput{ChannelID: h.ch.ID, Phone: number, Role: store.RoleAdmin}, &r); err != nil {
		return err
	}
	if r.Ours {
		h.reply(channel.OwnNumberText(h.st.Brand, number))
		return nil
	}
	if !r.Changed {
		h.reply(channel.AlreadyAdminText(number))
		return nil
	}
	// The new admin learns who added them: a fellow admin.
	h.send(number, "welcome", channel.WelcomeAdminText(h.st.Brand, h.t.From, h.ch.Phone, h.st.Links))
	h.reply(channel.AddedText(number))
	return nil
}

func (h *channelTextHandler) remove(number string) error {
	var r activities.LeaveResult
	if err := channelAct(h.ctx, ActivityLeaveChannel, activities.MembershipInput{ChannelID: h.ch.ID, Phone: number, Role: store.RoleAdmin}, &r); err != nil {
		return err
	}
	switch {
	case r.LastAdmin:
		h.reply(channel.LastAdminText())
	case r.Removed:
		if number != h.t.From {
			h.send(number, "removed", channel.RemovedNoticeText())
		}
		h.reply(channel.RemovedText(number))
	default:
		h.reply(channel.NotAnAdminText(number))
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
	h.send(sender, "private-reply", channel.PrivateReplyText(text))
	return h.toAdmins("reply-copy", channel.ReplyCopyText(hid, text))
}

// broadcast starts the Broadcast workflow, which outlives this one.
func (h *channelTextHandler) broadcast(text string) error {
	in := BroadcastInput{BroadcastID: BroadcastWorkflowID(h.t.SID), ChannelID: h.ch.ID, ChannelPhone: h.ch.Phone, Text: text}
	return startChild(h.ctx, broadcastStart(in), in)
}

// requestChannel applies the flood limit, then starts ChannelCreate, which
// outlives this workflow and answers the requester itself.
func (h *channelTextHandler) requestChannel(admins []string) error {
	id := ChannelCreateWorkflowID(h.t.SID)
	var admitted bool
	if err := channelAct(h.ctx, ActivityAdmitChannelRequest, activities.AdmitInput{RequestID: id, Requester: h.t.From, Source: "sms"}, &admitted); err != nil {
		return err
	}
	if !admitted {
		h.reply(channel.TooManyRequestsText())
		return nil
	}
	in := ChannelCreateInput{RequestID: id, Requester: h.t.From, Admins: admins}
	return startChild(h.ctx, channelCreateStart(in), in)
}
