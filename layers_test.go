package klaxon_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/klaxonhq/klaxon"

// TestLayers_ImportsFollowTheArchitecture holds the shape of the tree by
// construction: the domain packages are pure (the standard library and
// other domain packages only), and workflow code reaches no gateway —
// neither Postgres nor a provider nor HTTP — except through activities.
// A change that breaks a rule fails here, not in review.
func TestLayers_ImportsFollowTheArchitecture(t *testing.T) {
	domain := []string{"", "paging", "channel", "oncall", "code", "redact", "sms", "texts", "phone", "chat"}
	isDomain := map[string]bool{}
	for _, p := range domain {
		isDomain[p] = true
	}
	// Third-party modules a domain package may use: number parsing is a
	// pure function of its input.
	domainAllowed := map[string]bool{"github.com/nyaruka/phonenumbers": true}

	for _, pkg := range domain {
		for _, imp := range imports(t, pkg) {
			switch {
			case strings.HasPrefix(imp, module+"/"):
				if rel := strings.TrimPrefix(imp, module+"/"); !isDomain[rel] {
					t.Errorf("domain package %s imports %s, which is not a domain package", name(pkg), imp)
				}
			case imp == module:
			case strings.Contains(strings.SplitN(imp, "/", 2)[0], "."):
				if !domainAllowed[imp] {
					t.Errorf("domain package %s imports the third-party %s", name(pkg), imp)
				}
			case imp == "net/http" || imp == "database/sql" || imp == "os/exec":
				t.Errorf("domain package %s imports %s: domain code does no I/O", name(pkg), imp)
			}
		}
	}

	forbidden := []string{
		module + "/store", module + "/gateway", module + "/providers", module + "/worker",
		"github.com/jackc/pgx", "github.com/twilio", "github.com/go-ldap", "maunium.net/go/mautrix",
		"net/http", "database/sql",
	}
	for _, imp := range imports(t, "workflows") {
		for _, f := range forbidden {
			if imp == f || strings.HasPrefix(imp, f+"/") {
				t.Errorf("workflows imports %s: workflow code reaches gateways through activities only", imp)
			}
		}
	}
}

func name(pkg string) string {
	if pkg == "" {
		return "klaxon"
	}
	return pkg
}

// imports lists what the non-test Go files of a package directory import.
func imports(t *testing.T, dir string) []string {
	t.Helper()
	if dir == "" {
		dir = "."
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no Go files in %s: %v", dir, err)
	}
	seen := map[string]bool{}
	var out []string
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		af, err := parser.ParseFile(fset, f, src, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, is := range af.Imports {
			p, err := strconv.Unquote(is.Path.Value)
			if err != nil {
				t.Fatal(err)
			}
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	return out
}
