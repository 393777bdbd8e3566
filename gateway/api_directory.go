package gateway

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/gorilla/mux"
	"go.temporal.io/sdk/temporal"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/api"
	"github.com/klaxonhq/klaxon/directory"
	"github.com/klaxonhq/klaxon/workflows"
)

// directorySyncWait bounds how long POST /api/v1/directory/sync waits for
// the synchronisation, within the server's write timeout.
const directorySyncWait = 25 * time.Second

func (g *Gateway) directoryRoutes(api *mux.Router) {
	api.HandleFunc("/directory/sync", g.syncDirectory).Methods(http.MethodPost)
}

// syncDirectory is POST /api/v1/directory/sync: a synchronisation now,
// through the same workflow as the schedule's, answered with what changed.
func (g *Gateway) syncDirectory(w http.ResponseWriter, r *http.Request) {
	if g.Config.LDAPURL == "" {
		writeError(w, r, g.Logger, klaxon.Errorf(klaxon.EUnprocessable, "%s", directory.ErrNotConfigured.Message))
		return
	}
	sctx, cancel := context.WithTimeout(r.Context(), startTimeout)
	run, err := g.start.SyncDirectory(sctx)
	cancel()
	if err != nil {
		g.Logger.ErrorContext(r.Context(), "start directory sync", "error", err)
		writeError(w, r, g.Logger, klaxon.Errorf(klaxon.EUnavailable, "The synchronisation could not be started: the workflow engine is unavailable; try again in a minute."))
		return
	}
	wctx, cancel := context.WithTimeout(r.Context(), directorySyncWait)
	defer cancel()
	var res workflows.DirectorySyncResult
	if err := run.Get(wctx, &res); err != nil {
		g.Logger.WarnContext(r.Context(), "directory sync failed", "workflow", run.GetID(), "error", err)
		writeError(w, r, g.Logger, directorySyncError(err, run.GetID()))
		return
	}
	writeJSON(w, http.StatusOK, directorySyncOf(res.Report))
}

// directorySyncError turns a synchronisation's failure into one sentence: a
// directory that is down is 503, a refused bind or search 422.
func directorySyncError(err error, workflowID string) error {
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) {
		switch ae.Type() {
		case directory.KindUnreachable:
			return klaxon.Errorf(klaxon.EUnavailable, "%s", ae.Message())
		case directory.KindBind, directory.KindSearch, directory.KindEmpty, directory.KindNotConfigured:
			return klaxon.Errorf(klaxon.EUnprocessable, "%s", ae.Message())
		}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return klaxon.Errorf(klaxon.EUnavailable, "The synchronisation is still running (workflow %s); its changes will show in `klaxon user list`.", workflowID)
	}
	return klaxon.Errorf(klaxon.EUnavailable, "The synchronisation failed (workflow %s); the worker's log says why.", workflowID)
}

func directorySyncOf(r directory.Report) api.DirectorySync {
	changes := func(cs []directory.Change) []api.DirectoryChange {
		out := make([]api.DirectoryChange, 0, len(cs))
		for _, c := range cs {
			out = append(out, api.DirectoryChange{Handle: c.Handle, Fields: c.Fields})
		}
		return out
	}
	v := api.DirectorySync{
		Entries: r.Entries, Added: changes(r.Added), Updated: changes(r.Updated),
		Deactivated: changes(r.Deactivated), Reactivated: changes(r.Reactivated),
		Skipped: make([]api.DirectorySkip, 0, len(r.Skipped)),
		Counts: api.DirectoryCounts{Added: r.Counts.Added, Updated: r.Counts.Updated, Deactivated: r.Counts.Deactivated,
			Reactivated: r.Counts.Reactivated, Skipped: r.Counts.Skipped, Unchanged: r.Counts.Unchanged},
	}
	for _, s := range r.Skipped {
		v.Skipped = append(v.Skipped, api.DirectorySkip{DN: s.DN, Handle: s.Handle, Field: s.Field, Reason: s.Reason})
	}
	return v
}
