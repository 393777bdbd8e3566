package activities

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/klaxonhq/klaxon"
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

// LookupChannelInput names a text's channel number and sender.
type LookupChannelInput struct {
	To, From string
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

// ChannelMembers lists a channel's members with a role.
func (c *Channels) ChannelMembers(ctx context.Context, in MembersInput) ([]store.Member, error) {
	return c.Store.Members(ctx, in.ChannelID, in.Role)
}

// MembershipInput names a number on a channel, and a role.
type MembershipInput struct {
	ChannelID int64
	Phone     string
	Role      string
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
	ours := in.Phone == c.Settings.PagingNumber
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
	return JoinResult{Member: m, Changed: changed}, err
}

// LeaveResult says how a leave went.
type LeaveResult struct {
	Removed   bool
	LastAdmin bool
}

// LeaveChannel removes a member (with in.Role, if set); the last admin
// stays, and says so.
func (c *Channels) LeaveChannel(ctx context.Context, in MembershipInput) (LeaveResult, error) {
	removed, err := c.Store.RemoveMember(ctx, in.ChannelID, in.Phone, in.Role)
	if errors.Is(err, store.ErrLastAdmin) {
		return LeaveResult{LastAdmin: true}, nil
	}
	return LeaveResult{Removed: removed}, err
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

// HotlineIDInput names a hotline sender, or an id, on a channel.
type HotlineIDInput struct {
	ChannelID int64
	Sender    string
	ID        string
}

// HotlineID returns (making it the first time) a sender's hotline id.
func (c *Channels) HotlineID(ctx context.Context, in HotlineIDInput) (string, error) {
	return c.Store.HotlineID(ctx, in.ChannelID, in.Sender)
}

// HotlineSender returns the number behind a hotline id; "" when the id is
// unknown on the channel.
func (c *Channels) HotlineSender(ctx context.Context, in HotlineIDInput) (string, error) {
	s, err := c.Store.HotlineSender(ctx, in.ChannelID, in.ID)
	if errors.Is(err, klaxon.ErrNotFound) {
		return "", nil
	}
	return s, err
}

// AdmitInput is a channel request to admit.
type AdmitInput struct {
	RequestID string
	Requester string
	Source    string
}

// AdmitChannelRequest records a channel request and applies the per-sender
// flood limit.
func (c *Channels) AdmitChannelRequest(ctx context.Context, in AdmitInput) (bool, error) {
	return c.Store.AdmitChannelRequest(ctx, in.RequestID, in.Requester, in.Source, ChannelRequestLimit, ChannelRequestWindow)
}

// PrepareInput is a channel request's admin list.
type PrepareInput struct {
	Admins []string
}

// PrepareResult is the settings for a channel request, and why it must be
// refused, if it must.
type PrepareResult struct {
	Settings ChannelSettings
	// Problem is the refusal to send back, or "".
	Problem string
}

// PrepareChannelRequest checks what the parser cannot: that no admin is one
// of Klaxon's own numbers.
func (c *Channels) PrepareChannelRequest(ctx context.Context, in PrepareInput) (PrepareResult, error) {
	res := PrepareResult{Settings: c.Settings}
	for _, a := range in.Admins {
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

// CreateChannelInput is a channel to make.
type CreateChannelInput struct {
	RequestID string
	Phone     string
	Admins    []string
}

// CreateChannel makes the channel and its admins (idempotent per request).
func (c *Channels) CreateChannel(ctx context.Context, in CreateChannelInput) (store.Channel, error) {
	ch, err := c.Store.CreateChannel(ctx, in.RequestID, in.Phone, in.Admins)
	if klaxon.ErrorCodeOf(err) == klaxon.EConflict {
		return ch, expected(klaxon.ErrorMessageOf(err), "NumberTaken", true)
	}
	return ch, err
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
	return SystemAdmins{Phone: ch.Phone, Admins: ms}, err
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
	return c.Store.MembersRange(ctx, in.ChannelID, in.AfterID, in.UpToID, in.Limit)
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
