package activities

import (
	"context"
	"errors"

	"go.temporal.io/sdk/temporal"

	"github.com/klaxonhq/klaxon/directory"
)

// Directory is the directory feature's side of Temporal: one
// synchronisation with LDAP per activity.
type Directory struct {
	// Syncer synchronises; nil when KLAXON_LDAP_URL is not set.
	Syncer *directory.Syncer
}

// DirectorySyncInput asks for one synchronisation. Who asked is for the
// history and the logs.
type DirectorySyncInput struct {
	// By is "schedule" or "api".
	By string
}

// SyncDirectory runs one synchronisation and returns what it changed. A
// server that is down or busy is retried; a refused bind or search, a
// search that found nobody, or no directory configured is not.
func (d *Directory) SyncDirectory(ctx context.Context, _ DirectorySyncInput) (directory.Report, error) {
	if d == nil || d.Syncer == nil {
		return directory.Report{}, temporal.NewNonRetryableApplicationError(directory.ErrNotConfigured.Message, directory.KindNotConfigured, nil)
	}
	r, err := d.Syncer.Sync(ctx)
	var de *directory.Error
	switch {
	case err == nil:
		return r, nil
	case errors.As(err, &de) && de.Retryable:
		return r, temporal.NewApplicationErrorWithCause(de.Message, de.Kind, de.Err)
	case errors.As(err, &de):
		return r, temporal.NewNonRetryableApplicationError(de.Message, de.Kind, de.Err)
	}
	return r, err // Postgres: retried
}
