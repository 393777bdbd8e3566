package gateway_test

import (
	"testing"

	"github.com/klaxonhq/klaxon/internal/testenv"
)

// TestMain stops the Temporal dev server that the dispatcher and API tests
// share, once every test of the package has run.
func TestMain(m *testing.M) { testenv.Main(m) }
