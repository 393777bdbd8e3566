package workflows

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTestdata_IsAppendOnly holds the recorded histories to their
// manifest: a history that was changed or deleted fails here, because a
// running workflow of that shape may still exist, and the change that
// broke its replay must be guarded with workflow.GetVersion instead. A new
// history must be added to testdata/MANIFEST (sha256sum FILE >>
// testdata/MANIFEST) and to a replay test; an old one is never edited.
func TestTestdata_IsAppendOnly(t *testing.T) {
	f, err := os.Open("testdata/MANIFEST")
	if err != nil {
		t.Fatalf("open manifest: %v", err)
	}
	defer f.Close()
	listed := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		sum, name, ok := strings.Cut(line, "  ")
		if !ok {
			t.Fatalf("manifest line %q is not \"SHA256  FILE\"", line)
		}
		listed[name] = true
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Errorf("%s is in the manifest but cannot be read (recorded histories are never deleted): %v", name, err)
			continue
		}
		got := sha256.Sum256(data)
		if hex.EncodeToString(got[:]) != sum {
			t.Errorf("%s changed since it was recorded: recorded histories are append-only; guard the change with workflow.GetVersion and record a new history instead", name)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob("testdata/*.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range files {
		if name := filepath.Base(p); !listed[name] {
			t.Errorf("%s is not in testdata/MANIFEST: add it (sha256sum %s >> testdata/MANIFEST)", name, name)
		}
	}
}
