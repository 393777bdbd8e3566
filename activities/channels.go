package activities

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/channel"
	"github.com/klaxonhq/klaxon/redact"
	"github.com/klaxonhq/klaxon/store"
)

// NumberProvider buys phone numbers: the Twilio client (or the phone
// simulator behind it).
type NumberProvider interface {
	AvailableNumbers(ctx context.Context, country, areaCode string, n int) ([]string, error)
	BuyNumber(ctx context.Context, number string) (sid string, err error)
}

// ChannelSettings are the parts of the configuration the channel workflows
// need; activities hand them over so workflows never read configuration.
type ChannelSettings struct {
	Brand             string
	SignupNumber      string
	DiagnosticsNumber string
	// PagingNumber is KLAXON_FROM_NUMBER: ours, so never an admin.
	PagingNumber string
	ReserveSize  int
	// Region is the country numbers are bought in.
	Region string
	// Links are the operator's links the signup texts point to.
	Links channel.Links
}

// Channel request flood limit per sender.
const (
	ChannelRequestLimit  = 3
	ChannelRequestWindow = time.Hour
)

// Error types of the channel activities' non-retryable errors.
const (
	ErrTypeNoProvisioning = "NoProvisioning"
)

// Channels is the SMS channels' side of Temporal: the store of channels,
// members and the number pool, and the provider that buys numbers.
type Channels struct {
	Store *store.Store
	// Numbers buys numbers; nil when no provider is configured.
	Numbers  NumberProvider
	Settings ChannelSettings
	Logger   *slog.Logger
}

// ChannelSettings returns the channel settings (a local activity: it does
// no I/O, it only carries configuration into workflow history).
func (c *Channels) ChannelSettings(context.Context) (ChannelSettings, error) { return c.Settings, nil }

// LookupChannelInput names a text's channel number and its inbound event
// (whose sender the activity loads; From names it in histories recorded
// before references).
type LookupChannelInput struct {
	To      string
	From    string `json:",omitempty"`
	EventID int64  `json:",omitempty"`
}

// LookupChannelResult is the channel a text was sent to, if any, and the
// sender's role on it.
type LookupChannelResult struct {
	Found    bool
	Channel  store.Channel
	Role     string
	Settings ChannelSettings
	// FromOurs reports that the sender is one of Klaxon's own numbers (a
	// channel or pool number): such texts are never answered, or two
	// channels could answer each other for ever.
	FromOurs bool
}

// LookupChannel finds the channel on a number (a deleted one too) and the
// sender's role.
func (c *Channels) LookupChannel(ctx context.Context, in LookupChannelInput) (LookupChannelResult, error) {
	res := LookupChannelResult{Settings: c.Settings}
	ch, err := c.Store.ChannelByPhone(ctx, in.To)
	if errors.Is(err, klaxon.ErrNotFound) {
		return res, nil
	}
	if err != nil {
		return res, fmt.Errorf("lookup channel: %w", err)
	}
	res.Found, res.Channel = true, ch
	if ch.DeletedAt != nil {
		return res, nil
	}
	if in.From, err = sender(ctx, c.Store, in.From, in.EventID); err != nil {
		return res, fmt.Errorf("lookup channel: %w", err)
	}
	if res.Role, err = c.Store.RoleOf(ctx, ch.ID, in.From); err != nil {
		return res, fmt.Errorf("lookup channel: %w", err)
	}
	if res.FromOurs, err = c.Store.IsOurNumber(ctx, in.From); err != nil {
		return res, fmt.Errorf("lookup channel: %w", err)
	}
	return res, nil
}

// MembersInput selects a channel's members by role ("" for all).
type MembersInput struct {
	ChannelID int64
	Role      string
}

// ChannelMembers lists a channel's members with a role, by id: their
// numbers stay in Postgres ("member:ID" references).
func (c *Channels) ChannelMembers(ctx context.Context, in MembersInput) ([]store.Member, error) {
	ms, err := c.Store.Members(ctx, in.ChannelID, in.Role)
	return withoutPhones(ms), err
}

// withoutPhones is ms as a workflow gets them: ids and roles.
func withoutPhones(ms []store.Member) []store.Member {
	for i := range ms {
		ms[i].Phone = ""
	}
	return ms
}

// MembershipInput names a number on a channel, and a role. Ref names the
// number ("sender:ID", "claim:ID"); Phone is the number itself in
// histories recorded before references. By, for a removal, names who asked.
type MembershipInput struct {
	ChannelID int64
	Phone     string `json:",omitempty"`
	Ref       string `json:",omitempty"`
	Role      string
	By        string `json:",omitempty"`
}

// phone is the number a membership input names.
func (c *Channels) phone(ctx context.Context, in MembershipInput) (string, error) {
	if in.Phone != "" || in.Ref == "" {
		return in.Phone, nil
	}
	return c.Store.Resolve(ctx, in.Ref)
}

// JoinResult says whether a membership changed.
type JoinResult struct {
	Member  store.Member
	Changed bool
	// Ours reports a number that is one of Klaxon's own: refused.
	Ours bool
}

// JoinChannel adds (or promotes) a member; never one of Klaxon's own
// numbers.
func (c *Channels) JoinChannel(ctx context.Context, in MembershipInput) (JoinResult, error) {
	var err error
	if in.Phone, err = c.phone(ctx, in); err != nil {
		return JoinResult{}, fmt.Errorf("join channel: %w", err)
	}
	ours := in.Phone == c.Settings.PagingNumber || in.Phone == c.Settings.SignupNumber || in.Phone == c.Settings.DiagnosticsNumber
	if !ours {
		var err error
		if ours, err = c.Store.IsOurNumber(ctx, in.Phone); err != nil {
			return JoinResult{}, fmt.Errorf("join channel: %w", err)
		}
	}
	if ours {
		return JoinResult{Ours: true}, nil
	}
	m, changed, err := c.Store.AddMember(ctx, in.ChannelID, in.Phone, in.Role)
	m.Phone = ""
	return JoinResult{Member: m, Changed: changed}, err
}

// LeaveResult says how a leave went.
type LeaveResult struct {
	Removed   bool
	LastAdmin bool
	// Self reports that the number removed is the one that asked (By).
	Self bool `json:",omitempty"`
}

// LeaveChannel removes a member (with in.Role, if set); the last admin
// stays, and says so.
func (c *Channels) LeaveChannel(ctx context.Context, in MembershipInput) (LeaveResult, error) {
	var err error
	if in.Phone, err = c.phone(ctx, in); err != nil {
		return LeaveResult{}, fmt.Errorf("leave channel: %w", err)
	}
	self := false
	if in.By != "" {
		by, err := c.Store.Resolve(ctx, in.By)
		if err != nil {
			return LeaveResult{}, fmt.Errorf("leave channel: %w", err)
		}
		self = by == in.Phone
	}
	removed, err := c.Store.RemoveMember(ctx, in.ChannelID, in.Phone, in.Role)
	if errors.Is(err, store.ErrLastAdmin) {
		return LeaveResult{LastAdmin: true, Self: self}, nil
	}
	return LeaveResult{Removed: removed, Self: self}, err
}

// SetHotlineInput opens or closes a hotline.
type SetHotlineInput struct {
	ChannelID int64
	On        bool
}

// SetHotline opens or closes a channel's hotline.
func (c *Channels) SetHotline(ctx context.Context, in SetHotlineInput) error {
	return c.Store.SetHotline(ctx, in.ChannelID, in.On)
}

// HotlineIDInput names a hotline sender (by the inbound event they sent:
// EventID; Sender is the number in histories recorded before references),
// or an id, on a channel.
type HotlineIDInput struct {
	ChannelID int64
	Sender    string `json:",omitempty"`
	EventID   int64  `json:",omitempty"`
	ID        string
}

// HotlineID returns (making it the first time) a sender's hotline id.
func (c *Channels) HotlineID(ctx context.Context, in HotlineIDInput) (string, error) {
	from, err := sender(ctx, c.Store, in.Sender, in.EventID)
	if err != nil {
		return "", fmt.Errorf("hotline id: %w", err)
	}
	return c.Store.HotlineID(ctx, in.ChannelID, from)
}

// HotlineSender returns a reference ("claim:ID") to the number behind a
// hotline id, never the number; "" when the id is unknown on the channel.
func (c *Channels) HotlineSender(ctx context.Context, in HotlineIDInput) (string, error) {
	s, err := c.Store.HotlineSender(ctx, in.ChannelID, in.ID)
	if errors.Is(err, klaxon.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return c.Store.PutClaim(ctx, store.ClaimNumber, s)
}

// AdmitInput is a channel request to admit. RequesterRef names who asked
// ("sender:ID"); Requester is the number in histories recorded before
// references.
type AdmitInput struct {
	RequestID    string
	Requester    string `json:",omitempty"`
	RequesterRef string `json:",omitempty"`
	Source       string
}

// AdmitChannelRequest records a channel request and applies the per-sender
// flood limit.
func (c *Channels) AdmitChannelRequest(ctx context.Context, in AdmitInput) (bool, error) {
	if in.Requester == "" && in.RequesterRef != "" {
		var err error
		if in.Requester, err = c.Store.Resolve(ctx, in.RequesterRef); err != nil {
			return false, fmt.Errorf("admit channel request: %w", err)
		}
	}
	return c.Store.AdmitChannelRequest(ctx, in.RequestID, in.Requester, in.Source, ChannelRequestLimit, ChannelRequestWindow)
}

// PrepareInput is a channel request's admin list: AdminsRef names it (a
// claim of comma-separated numbers), Admins holds it in histories recorded
// before references. RequesterRef names who asked, if anyone.
type PrepareInput struct {
	Admins       []string `json:",omitempty"`
	AdminsRef    string   `json:",omitempty"`
	RequesterRef string   `json:",omitempty"`
}

// admins is the admin list a request names.
func (c *Channels) admins(ctx context.Context, list []string, ref string) ([]string, error) {
	if ref == "" {
		return list, nil
	}
	v, err := c.Store.Resolve(ctx, ref)
	if err != nil {
		return nil, err
	}
	if v == "" {
		return nil, nil
	}
	return strings.Split(v, ","), nil
}

// PrepareResult is the settings for a channel request, and why it must be
// refused, if it must.
type PrepareResult struct {
	Settings ChannelSettings
	// Problem is the refusal to send back, or "".
	Problem string
	// RequesterIsAdmin reports that who asked is one of the admins, so
	// the welcomes may name them.
	RequesterIsAdmin bool `json:",omitempty"`
}

// PrepareChannelRequest checks what the parser cannot: that no admin is one
// of Klaxon's own numbers.
func (c *Channels) PrepareChannelRequest(ctx context.Context, in PrepareInput) (PrepareResult, error) {
	res := PrepareResult{Settings: c.Settings}
	admins, err := c.admins(ctx, in.Admins, in.AdminsRef)
	if err != nil {
		return res, fmt.Errorf("prepare channel request: %w", err)
	}
	if in.RequesterRef != "" {
		requester, err := c.Store.Resolve(ctx, in.RequesterRef)
		if err != nil {
			return res, fmt.Errorf("prepare channel request: %w", err)
		}
		res.RequesterIsAdmin = slices.Contains(admins, requester)
	}
	for _, a := range admins {
		ours := a == c.Settings.PagingNumber || a == c.Settings.SignupNumber || a == c.Settings.DiagnosticsNumber
		if !ours {
			var err error
			if ours, err = c.Store.IsOurNumber(ctx, a); err != nil {
				return res, fmt.Errorf("prepare channel request: %w", err)
			}
		}
		if ours {
			res.Problem = ownNumberText(c.Settings.Brand, a)
			return res, nil
		}
	}
	return res, nil
}

// ownNumberText mirrors channel.OwnNumberText; activities do not import the
// channel language, so the refusal is built here with the same words.
func ownNumberText(brand, number string) string {
	return number + " is a " + brand + " channel number, so it cannot be an admin. Please list the admins' own phone numbers."
}

// ClaimInput is a channel request taking a number.
type ClaimInput struct {
	RequestID string
	// Want is the number asked for, or "" for any from the pool.
	Want string
}

// ClaimResult is the number taken, or why none was.
type ClaimResult struct {
	Phone     string
	NoNumbers bool
	// Problem is a refusal for the maintainer who asked for a number that
	// cannot be had.
	Problem string
	// Counted reports that Available is the pool's free count right after
	// this claim (what GET /api/v1/numbers then lists), for the
	// low-reserve warning.
	Counted   bool
	Available int
}

// ClaimNumber takes a number from the pool for a channel request.
func (c *Channels) ClaimNumber(ctx context.Context, in ClaimInput) (ClaimResult, error) {
	p, err := c.Store.ClaimNumber(ctx, in.RequestID, in.Want)
	switch {
	case errors.Is(err, store.ErrNoNumbers):
		return ClaimResult{NoNumbers: true}, nil
	case klaxon.ErrorCodeOf(err) == klaxon.EConflict:
		return ClaimResult{Problem: klaxon.ErrorMessageOf(err)}, nil
	case err != nil:
		return ClaimResult{}, err
	}
	avail, _, err := c.Store.PoolCounts(ctx)
	if err != nil {
		return ClaimResult{}, err
	}
	return ClaimResult{Phone: p, Counted: true, Available: avail}, nil
}

// ReleaseNumber returns a request's number to the pool when its channel
// could not be made.
func (c *Channels) ReleaseNumber(ctx context.Context, requestID string) error {
	return c.Store.ReleaseNumber(ctx, requestID)
}

// CreateChannelInput is a channel to make: Phone is our number for it;
// AdminsRef names the admins (Admins holds them in histories recorded
// before references).
type CreateChannelInput struct {
	RequestID string
	Phone     string
	Admins    []string `json:",omitempty"`
	AdminsRef string   `json:",omitempty"`
}

// CreatedChannel is a channel just made, and its admins' member ids in the
// order of the request, for their welcomes.
type CreatedChannel struct {
	store.Channel
	AdminIDs []int64 `json:",omitempty"`
}

// CreateChannel makes the channel and its admins (idempotent per request).
func (c *Channels) CreateChannel(ctx context.Context, in CreateChannelInput) (CreatedChannel, error) {
	admins, err := c.admins(ctx, in.Admins, in.AdminsRef)
	if err != nil {
		return CreatedChannel{}, fmt.Errorf("create channel: %w", err)
	}
	ch, err := c.Store.CreateChannel(ctx, in.RequestID, in.Phone, admins)
	if klaxon.ErrorCodeOf(err) == klaxon.EConflict {
		return CreatedChannel{Channel: ch}, expected(klaxon.ErrorMessageOf(err), "NumberTaken", true)
	}
	if err != nil {
		return CreatedChannel{Channel: ch}, err
	}
	res := CreatedChannel{Channel: ch}
	if in.AdminsRef == "" {
		return res, nil
	}
	ms, err := c.Store.Members(ctx, ch.ID, store.RoleAdmin)
	if err != nil {
		return res, fmt.Errorf("create channel: %w", err)
	}
	ids := map[string]int64{}
	for _, m := range ms {
		ids[m.Phone] = m.ID
	}
	for _, a := range admins {
		res.AdminIDs = append(res.AdminIDs, ids[a])
	}
	return res, nil
}

// PoolCounts are the maintainers' figures.
type PoolCounts struct {
	Available int
	Active    int
}

// CountPool counts available numbers and active channels.
func (c *Channels) CountPool(ctx context.Context) (PoolCounts, error) {
	a, n, err := c.Store.PoolCounts(ctx)
	return PoolCounts{Available: a, Active: n}, err
}

// SystemAdmins is a system channel's number and admins (the maintainers).
type SystemAdmins struct {
	Phone  string
	Admins []store.Member
}

// SystemChannelAdmins returns the signup or diagnostics channel's number
// and admins; an empty number when that channel does not exist.
func (c *Channels) SystemChannelAdmins(ctx context.Context, kind string) (SystemAdmins, error) {
	ch, err := c.Store.SystemChannel(ctx, kind)
	if errors.Is(err, klaxon.ErrNotFound) {
		return SystemAdmins{}, nil
	}
	if err != nil {
		return SystemAdmins{}, err
	}
	ms, err := c.Store.Members(ctx, ch.ID, store.RoleAdmin)
	return SystemAdmins{Phone: ch.Phone, Admins: withoutPhones(ms)}, err
}

// BroadcastRecord names a broadcast and its channel.
type BroadcastRecord struct {
	ID         string
	ChannelID  int64
	Recipients int
}

// StartBroadcast records a broadcast.
func (c *Channels) StartBroadcast(ctx context.Context, in BroadcastRecord) error {
	return c.Store.StartBroadcast(ctx, in.ID, in.ChannelID)
}

// FinishBroadcast records that a broadcast was handed out to everyone.
func (c *Channels) FinishBroadcast(ctx context.Context, in BroadcastRecord) error {
	return c.Store.FinishBroadcast(ctx, in.ID, in.Recipients)
}

// PlanInput asks for a broadcast's batch boundaries.
type PlanInput struct {
	ChannelID int64
	BatchSize int
}

// PlanBroadcast splits a channel's members into batches of BatchSize by
// member id: it returns the last member id of every full batch, so batch i
// covers ids above bound i-1 up to bound i, and the last batch everything
// above the last bound.
func (c *Channels) PlanBroadcast(ctx context.Context, in PlanInput) ([]int64, error) {
	return c.Store.MemberBounds(ctx, in.ChannelID, in.BatchSize)
}

// PageInput selects members by id range.
type PageInput struct {
	ChannelID int64
	AfterID   int64
	// UpToID bounds the range; 0 means no bound.
	UpToID int64
	Limit  int
}

// MembersPage returns the members of one broadcast batch.
func (c *Channels) MembersPage(ctx context.Context, in PageInput) ([]store.Member, error) {
	ms, err := c.Store.MembersRange(ctx, in.ChannelID, in.AfterID, in.UpToID, in.Limit)
	return withoutPhones(ms), err
}

// AvailableNumbersInput asks the provider for numbers to buy.
type AvailableNumbersInput struct {
	AreaCode string
	Count    int
}

// AvailableNumbers lists numbers the provider can sell.
func (c *Channels) AvailableNumbers(ctx context.Context, in AvailableNumbersInput) ([]string, error) {
	if c.Numbers == nil {
		return nil, temporal.NewNonRetryableApplicationError("no phone number provider is configured (set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN)", ErrTypeNoProvisioning, nil)
	}
	ns, err := c.Numbers.AvailableNumbers(ctx, c.Settings.Region, in.AreaCode, in.Count)
	return ns, classify(err)
}

// BuyNumber buys one number with its SMS webhook pointed at Klaxon.
func (c *Channels) BuyNumber(ctx context.Context, number string) (string, error) {
	if c.Numbers == nil {
		return "", temporal.NewNonRetryableApplicationError("no phone number provider is configured", ErrTypeNoProvisioning, nil)
	}
	sid, err := c.Numbers.BuyNumber(ctx, number)
	if err != nil {
		c.Logger.WarnContext(ctx, "buy number failed", "number", redact.Number(number), "error", err)
	}
	return sid, classify(err)
}

// RecordNumberInput is a provisioning outcome for the pool.
type RecordNumberInput struct {
	Phone  string
	SID    string
	Failed bool
	Reason string
}

// RecordNumber puts a bought number in the pool, or records its failure.
func (c *Channels) RecordNumber(ctx context.Context, in RecordNumberInput) error {
	if in.Failed {
		return c.Store.RecordFailedNumber(ctx, in.Phone, in.Reason)
	}
	_, err := c.Store.RecordProvisioned(ctx, in.Phone, in.SID)
	return err
}

// classify turns a provider's permanent refusal into a non-retryable
// error; the rest go back to the retry policy.
func classify(err error) error {
	var de *klaxon.DeliveryError
	if errors.As(err, &de) {
		return providerError(de)
	}
	return err
}

// ReadChannelTextInput names a text sent to a channel, and what the
// parser must know of its sender.
type ReadChannelTextInput struct {
	EventID int64
	Role    channel.Role
	Signup  bool
}

// ChannelCommand is a channel text understood at the edge, as a workflow
// may hold it: the command's kind and hotline id, and references
// ("claim:ID") to everything private in it — the words of a BROADCAST or a
// REPLY, the number of an ADD or a REMOVE, the admins of a CHANNEL, and the
// reply to an invalid command (which quotes what was typed).
type ChannelCommand struct {
	Kind      channel.Kind
	HotlineID string `json:",omitempty"`
	Text      string `json:",omitempty"`
	Number    string `json:",omitempty"`
	Admins    string `json:",omitempty"`
	Error     string `json:",omitempty"`
	// Shown is the number of an ADD or a REMOVE, redacted, for logs.
	Shown string `json:",omitempty"`
}

// ReadChannelText parses a channel text where its words are, and hands the
// workflow references to what is private in it.
func (c *Channels) ReadChannelText(ctx context.Context, in ReadChannelTextInput) (ChannelCommand, error) {
	body, err := c.Store.Resolve(ctx, "text:"+strconv.FormatInt(in.EventID, 10))
	if err != nil {
		return ChannelCommand{}, fmt.Errorf("read channel text: %w", err)
	}
	cmd := channel.Parse(body, channel.Context{Role: in.Role, Signup: in.Signup})
	out := ChannelCommand{Kind: cmd.Kind, HotlineID: cmd.HotlineID}
	claim := func(kind, v string) (string, error) {
		if v == "" {
			return "", nil
		}
		return c.Store.PutClaim(ctx, kind, v)
	}
	if out.Text, err = claim(store.ClaimText, cmd.Text); err != nil {
		return out, fmt.Errorf("read channel text: %w", err)
	}
	if out.Number, err = claim(store.ClaimNumber, cmd.Number); err != nil {
		return out, fmt.Errorf("read channel text: %w", err)
	}
	if out.Admins, err = claim(store.ClaimNumbers, strings.Join(cmd.Admins, ",")); err != nil {
		return out, fmt.Errorf("read channel text: %w", err)
	}
	if out.Error, err = claim(store.ClaimText, cmd.Error); err != nil {
		return out, fmt.Errorf("read channel text: %w", err)
	}
	if cmd.Number != "" {
		out.Shown = redact.Number(cmd.Number)
	}
	return out, nil
}
