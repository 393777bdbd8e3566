// Package matrix is the chat bridge's Matrix network: a plain client of a
// homeserver (no end-to-end encryption) that delivers what people say in
// the configured rooms and in private rooms with the bot, and says what
// Klaxon says. It is better than IRC where Matrix allows: a page is one
// message whose events thread under it and whose status is edited into it,
// a ✅ on it acknowledges it, relayed texts of one person thread together,
// and replies are m.notice so other bots leave them alone.
package matrix

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"github.com/klaxonhq/klaxon/chat"
	"github.com/klaxonhq/klaxon/store"
)

// Config is how the bot reaches its homeserver.
type Config struct {
	// Homeserver is the client API's base URL.
	Homeserver string
	// User and Password log the bot in; Token, an access token, is used
	// instead when set.
	User, Password, Token string
	// Rooms are room ids or aliases to join; the first is the team room.
	Rooms []string
	// ConversationWindow is how long after its last line a conversation
	// (the texts of one person relayed into a room) keeps threading
	// together; DefaultConversationWindow when zero.
	ConversationWindow time.Duration
	// TimelineLimit is how many events of a room one sync returns;
	// DefaultTimelineLimit when zero. A busier gap (the bot was away) is
	// paged back through, up to MaxBackfill events a room.
	TimelineLimit int
	// MaxBackfill bounds how many events of one room a gap is paged back
	// through; DefaultMaxBackfill when zero. Older ones are counted and
	// logged, not handled.
	MaxBackfill int
}

// DefaultConversationWindow is how long a relayed conversation keeps its
// thread.
const DefaultConversationWindow = 10 * time.Minute

// DefaultTimelineLimit is how many events of a room one sync returns.
const DefaultTimelineLimit = 200

// DefaultMaxBackfill is how many events of one room a gap is paged back
// through: hours of a busy room, and a bound on what one restart replays.
const DefaultMaxBackfill = 5000

// deviceID is the bot's device: every password login reuses it, so the
// homeserver keeps one device for the bot, not one per restart.
const deviceID = "KLAXON"

// Store is what the network keeps in Postgres.
type Store interface {
	MatrixNextBatch(ctx context.Context, account string) (string, error)
	MatrixRoomMarks(ctx context.Context, account string) (map[string]string, error)
	SetMatrixPosition(ctx context.Context, account, next string, marks map[string]string) error
	SetMatrixPage(ctx context.Context, p store.MatrixPage) error
	MatrixPageByPage(ctx context.Context, pageID int64) (store.MatrixPage, error)
	MatrixPageByEvent(ctx context.Context, eventID string) (store.MatrixPage, error)
	MatrixThread(ctx context.Context, roomID, key string, since time.Time) (string, error)
	TouchMatrixThread(ctx context.Context, roomID, key, root string, at time.Time) error
	MatrixDirectRoom(ctx context.Context, userID string) (string, error)
	SetMatrixDirectRoom(ctx context.Context, userID, roomID string) error
}

// Network is a connection to a Matrix homeserver; it is a chat.Network.
type Network struct {
	cfg  Config
	st   Store
	log  *slog.Logger
	http *http.Client
	now  func() time.Time
	// rateLimited counts the homeserver's M_LIMIT_EXCEEDED answers.
	rateLimited atomic.Int64

	mu        sync.Mutex
	cli       *mautrix.Client
	connected bool
	self      id.UserID
	// rooms are the configured rooms, resolved: room id → configured name.
	rooms map[id.RoomID]string
	// names are the configured names (and room ids) → room id.
	names   map[string]id.RoomID
	members map[id.RoomID]map[id.UserID]member
}

type member struct {
	joined  bool
	display string
}

var _ chat.Network = (*Network)(nil)

// New makes a network; Run connects it.
func New(cfg Config, st Store, log *slog.Logger) (*Network, error) {
	if cfg.Homeserver == "" {
		return nil, errors.New("matrix: no homeserver")
	}
	if cfg.Token == "" && (cfg.User == "" || cfg.Password == "") {
		return nil, errors.New("matrix: the bot needs a user and password, or an access token")
	}
	if len(cfg.Rooms) == 0 {
		return nil, errors.New("matrix: no rooms to join")
	}
	if cfg.ConversationWindow <= 0 {
		cfg.ConversationWindow = DefaultConversationWindow
	}
	if cfg.TimelineLimit <= 0 {
		cfg.TimelineLimit = DefaultTimelineLimit
	}
	if cfg.MaxBackfill <= 0 {
		cfg.MaxBackfill = DefaultMaxBackfill
	}
	return &Network{
		cfg: cfg, st: st, log: log,
		http: &http.Client{Timeout: 90 * time.Second},
		now:  time.Now,
	}, nil
}

// Name is chat.Matrix.
func (n *Network) Name() string { return chat.Matrix }

// Vouches is true: the homeserver authenticates every sender.
func (n *Network) Vouches() bool { return true }

// TeamRoom is the team room, as configured.
func (n *Network) TeamRoom() string { return n.cfg.Rooms[0] }

// UserID is the bot's Matrix id once it has logged in.
func (n *Network) UserID() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return string(n.self)
}

// Nick is the bot's localpart, as people address it ("klaxon: pages").
func (n *Network) Nick() string {
	user := n.UserID()
	if user == "" {
		user = n.cfg.User
	}
	local, _, _ := strings.Cut(strings.TrimPrefix(user, "@"), ":")
	return local
}

// Threads is true: a page's events go in a thread under its message.
func (n *Network) Threads() bool { return true }

// Connected reports whether the bot is logged in, in its rooms and syncing.
func (n *Network) Connected() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.connected
}

func (n *Network) client() (*mautrix.Client, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.cli, n.connected
}

func (n *Network) setConnected(cli *mautrix.Client, up bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.connected = up
	if cli != nil {
		n.cli = cli
	}
}

// Run connects, syncs and delivers, reconnecting with backoff and jitter
// until ctx is done.
func (n *Network) Run(ctx context.Context, handle func(context.Context, chat.Message)) error {
	backoff := time.Second
	for {
		began := time.Now()
		err := n.session(ctx, handle)
		n.setConnected(nil, false)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Since(began) > time.Minute {
			backoff = time.Second
		}
		wait := backoff/2 + rand.N(backoff/2+1)
		n.log.WarnContext(ctx, "matrix connection lost", "error", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		backoff = min(backoff*2, time.Minute)
	}
}

// login makes a client for the bot, by access token or password.
func (n *Network) login(ctx context.Context) (*mautrix.Client, error) {
	cli, err := mautrix.NewClient(n.cfg.Homeserver, "", "")
	if err != nil {
		return nil, fmt.Errorf("matrix login: %w", err)
	}
	cli.Client = n.http
	// Rate limits are answered here, from the homeserver's retry_after_ms.
	cli.IgnoreRateLimit = true
	cli.DefaultHTTPRetries = 0
	if n.cfg.Token != "" {
		cli.AccessToken = n.cfg.Token
		var who *mautrix.RespWhoami
		err := n.call(ctx, "whoami", func() (err error) { who, err = cli.Whoami(ctx); return err })
		if err != nil {
			return nil, fmt.Errorf("matrix login: %w", err)
		}
		cli.UserID, cli.DeviceID = who.UserID, who.DeviceID
		return cli, nil
	}
	err = n.call(ctx, "login", func() error {
		_, err := cli.Login(ctx, &mautrix.ReqLogin{
			Type:                     mautrix.AuthTypePassword,
			Identifier:               mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: n.cfg.User},
			Password:                 n.cfg.Password,
			DeviceID:                 deviceID,
			InitialDeviceDisplayName: "Klaxon",
			StoreCredentials:         true,
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("matrix login: %w", err)
	}
	return cli, nil
}

// joinRooms resolves the configured rooms and joins each; a room the bot
// may not join yet (invite only) is joined when its invite arrives.
func (n *Network) joinRooms(ctx context.Context, cli *mautrix.Client) error {
	rooms := make(map[id.RoomID]string, len(n.cfg.Rooms))
	names := make(map[string]id.RoomID, len(n.cfg.Rooms))
	for _, name := range n.cfg.Rooms {
		roomID := id.RoomID(name)
		if strings.HasPrefix(name, "#") {
			var res *mautrix.RespAliasResolve
			err := n.call(ctx, "resolve alias", func() (err error) { res, err = cli.ResolveAlias(ctx, id.RoomAlias(name)); return err })
			if err != nil {
				return fmt.Errorf("matrix room %s: %w", name, err)
			}
			roomID = res.RoomID
		}
		rooms[roomID], names[name], names[string(roomID)] = name, roomID, roomID
		err := n.call(ctx, "join", func() error { _, err := cli.JoinRoom(ctx, name, nil); return err })
		if err != nil {
			if errors.Is(err, mautrix.MForbidden) {
				n.log.WarnContext(ctx, "matrix room not joinable yet: waiting for an invite", "room", name)
				continue
			}
			return fmt.Errorf("matrix join %s: %w", name, err)
		}
	}
	n.mu.Lock()
	n.rooms, n.names = rooms, names
	if n.members == nil {
		n.members = make(map[id.RoomID]map[id.UserID]member)
	}
	n.mu.Unlock()
	return nil
}

// maxRateLimitWaits bounds how many times one request waits out a rate
// limit before its error is returned.
const maxRateLimitWaits = 8

// maxRetryAfter caps one wait, whatever the homeserver asks.
const maxRetryAfter = time.Minute

// call runs fn, and when the homeserver answers M_LIMIT_EXCEEDED waits the
// retry_after_ms it gives and runs it again.
func (n *Network) call(ctx context.Context, op string, fn func() error) error {
	for waits := 0; ; waits++ {
		err := fn()
		wait, limited := RetryAfter(err)
		if !limited || waits >= maxRateLimitWaits {
			return err
		}
		n.rateLimited.Add(1)
		n.log.InfoContext(ctx, "matrix rate limited", "op", op, "retry_after", wait)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// RetryAfter tells whether err is the homeserver's M_LIMIT_EXCEEDED, and
// how long it asks the client to wait (its retry_after_ms, else the
// Retry-After header, else a second), at most a minute.
func RetryAfter(err error) (time.Duration, bool) {
	var he mautrix.HTTPError
	if !errors.As(err, &he) || he.RespError == nil || he.RespError.ErrCode != mautrix.MLimitExceeded.ErrCode {
		return 0, false
	}
	wait := time.Second
	if ms, ok := he.RespError.ExtraData["retry_after_ms"].(float64); ok && ms > 0 {
		wait = time.Duration(ms * float64(time.Millisecond))
	} else if he.Response != nil {
		if s, err := time.ParseDuration(he.Response.Header.Get("Retry-After") + "s"); err == nil && s > 0 {
			wait = s
		}
	}
	return min(wait, maxRetryAfter), true
}
