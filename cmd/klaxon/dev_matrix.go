package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"github.com/klaxonhq/klaxon/config"
	"github.com/klaxonhq/klaxon/internal/dev/devstack"
)

// The dev homeserver's port and accounts: the bot, and two people to sign
// in as with any Matrix client. They live on loopback only.
const (
	devMatrixPort     = 8008
	devMatrixBot      = "klaxon"
	devMatrixPassword = "klaxon-dev-bot"
	devMatrixSuffix   = "-password"
	devMatrixRoom     = "klaxon"
	// The dev homeserver's people (password: localpart followed by
	// devMatrixSuffix); alice opens the team room the first time.
	devMatrixAlice = "alice"
	devMatrixBob   = "bob"
)

// devMatrix is the Matrix homeserver `klaxon dev` runs.
type devMatrix struct {
	hs   *devstack.Dendrite
	room string
}

// startDevMatrix starts a local Dendrite when one is installed and no
// homeserver is configured, makes sure #klaxon exists, and points the bot
// at it. It returns nil (and says why in the log) when there is none.
func startDevMatrix(ctx context.Context, getenv func(string) string, cfg *config.Config, logger *slog.Logger) (*devMatrix, error) {
	if cfg.MatrixHomeserver != "" {
		return nil, nil
	}
	bin, err := devstack.FindDendrite(getenv)
	if err != nil {
		logger.Info("no Matrix homeserver: " + err.Error())
		return nil, nil
	}
	port := portOrAny(devMatrixPort)
	accounts := []devstack.DendriteAccount{{Localpart: devMatrixBot, Password: devMatrixPassword}}
	for _, p := range []string{devMatrixAlice, devMatrixBob} {
		accounts = append(accounts, devstack.DendriteAccount{Localpart: p, Password: p + devMatrixSuffix})
	}
	hs, err := devstack.StartDendrite(ctx, devstack.DendriteOptions{
		BinDir: bin, Dir: filepath.Join(cfg.DataDir, "dendrite"), Port: port, Accounts: accounts,
	})
	if err != nil {
		return nil, err
	}
	d := &devMatrix{hs: hs, room: "#" + devMatrixRoom + ":" + hs.ServerName}
	if err := d.ensureRoom(ctx); err != nil {
		_ = hs.Stop()
		return nil, err
	}
	cfg.MatrixHomeserver = hs.URL
	cfg.MatrixUser, cfg.MatrixPassword = devMatrixBot, config.Secret(devMatrixPassword)
	cfg.MatrixRooms = []string{d.room}
	return d, nil
}

// ensureRoom has alice open the public #klaxon room when it does not
// exist yet, as the first person of a team would.
func (d *devMatrix) ensureRoom(ctx context.Context) error {
	cli, err := mautrix.NewClient(d.hs.URL, "", "")
	if err != nil {
		return fmt.Errorf("dev matrix room: %w", err)
	}
	if _, err := cli.Login(ctx, &mautrix.ReqLogin{
		Type:       mautrix.AuthTypePassword,
		Identifier: mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: devMatrixAlice},
		Password:   devMatrixAlice + devMatrixSuffix, StoreCredentials: true,
	}); err != nil {
		return fmt.Errorf("dev matrix room: %w", err)
	}
	defer func() { _, _ = cli.Logout(context.WithoutCancel(ctx)) }()
	if _, err := cli.ResolveAlias(ctx, id.RoomAlias(d.room)); err == nil {
		return nil
	} else if !errors.Is(err, mautrix.MNotFound) {
		return fmt.Errorf("dev matrix room: %w", err)
	}
	if _, err := cli.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "public_chat", RoomAliasName: devMatrixRoom, Name: "Klaxon"}); err != nil {
		return fmt.Errorf("dev matrix room: %w", err)
	}
	return nil
}

// Stop stops the homeserver.
func (d *devMatrix) Stop() error { return d.hs.Stop() }
