package config

import (
	"os"
	"strings"
	"testing"
	"time"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoad_DefaultsAreTheContract(t *testing.T) {
	c, err := Load(envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.TemporalAddress != "127.0.0.1:7233" || c.TemporalNamespace != "default" || c.HTTPAddr != ":8080" ||
		c.PublicURL != "http://localhost:8080" || c.TwilioAPIURL != "https://api.twilio.com" ||
		c.EmailFrom != "klaxon@localhost" || c.DefaultRegion != "US" || c.SendRate != 1 || c.ReserveSize != 8 ||
		c.Brand != "Klaxon" || c.TaskQueue != "klaxon" {
		t.Errorf("defaults = %+v", c)
	}
}

func TestLoad_NormalisesNumbersAndLists(t *testing.T) {
	c, err := Load(envOf(map[string]string{
		"KLAXON_FROM_NUMBER":    " +1 (555) 555-0100 ",
		"KLAXON_MAINTAINERS":    "+15555550101, +15555550102,",
		"KLAXON_PUBLIC_URL":     "https://klaxon.example.org/",
		"KLAXON_SEND_RATE":      "0",
		"KLAXON_DEFAULT_REGION": "gb",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.FromNumber != "+15555550100" {
		t.Errorf("from = %q", c.FromNumber)
	}
	if len(c.Maintainers) != 2 || c.Maintainers[1] != "+15555550102" {
		t.Errorf("maintainers = %q", c.Maintainers)
	}
	if c.PublicURL != "https://klaxon.example.org" || c.SendRate != 0 || c.DefaultRegion != "GB" {
		t.Errorf("config = %+v", c)
	}
}

func TestLoad_ReportsEveryProblemAtOnce(t *testing.T) {
	_, err := Load(envOf(map[string]string{
		"KLAXON_SEND_RATE":      "fast",
		"KLAXON_RESERVE_SIZE":   "-1",
		"KLAXON_PUBLIC_URL":     "klaxon.example.org",
		"KLAXON_FROM_NUMBER":    "abc",
		"KLAXON_DEFAULT_REGION": "XX",
		"TWILIO_ACCOUNT_SID":    "AC123",
		"KLAXON_SMTP_URL":       "http://mail",
		"KLAXON_LOG_LEVEL":      "loud",
		"KLAXON_PAYLOAD_KEYS":   "c2hvcnQ=",
	}))
	if err == nil {
		t.Fatal("bad configuration accepted")
	}
	for _, want := range []string{"KLAXON_SEND_RATE", "KLAXON_RESERVE_SIZE", "KLAXON_PUBLIC_URL", "KLAXON_FROM_NUMBER",
		"KLAXON_DEFAULT_REGION", "TWILIO_AUTH_TOKEN", "KLAXON_SMTP_URL", "KLAXON_LOG_LEVEL", "KLAXON_PAYLOAD_KEYS"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s: %v", want, err)
		}
	}
}

func TestLines_MaskSecrets(t *testing.T) {
	c, err := Load(envOf(map[string]string{
		"KLAXON_API_TOKEN":   "sekrit-api",
		"TWILIO_ACCOUNT_SID": "AC1",
		"TWILIO_AUTH_TOKEN":  "sekrit-twilio",
		"KLAXON_SMTP_URL":    "smtp://u:sekrit-smtp@mail:587",
		"DATABASE_URL":       "postgres://k:sekrit-db@db/klaxon",
		"KLAXON_FROM_NUMBER": "+15555550100",
		// 32 bytes of "sekrit-payload-key-0123456789abc", base64.
		"KLAXON_PAYLOAD_KEYS": "c2Vrcml0LXBheWxvYWQta2V5LTAxMjM0NTY3ODlhYmM=",
	}))
	if err != nil {
		t.Fatal(err)
	}
	out := strings.Join(c.Lines(), "\n")
	for _, secret := range []string{"sekrit", "+15555550100", "c2Vrcml0"} {
		if strings.Contains(out, secret) {
			t.Errorf("printed configuration leaks %q:\n%s", secret, out)
		}
	}
}

// TestDefaults_Parse holds every default tag to its field's type: Defaults
// reads them with the parser Load uses.
func TestDefaults_Parse(t *testing.T) {
	var c Config
	if err := c.read(func(key string) string { return fieldByEnv(key).Tag.Get("default") }); err != nil {
		t.Fatal(err)
	}
	if c.ShutdownTimeout != 15*time.Second || c.RecipientRate != 1 || c.DataDir != ".klaxon" || c.LogLevel != "info" {
		t.Errorf("defaults = %+v", c)
	}
}

// TestVariables_DeclaredOnceAndDocumented: each variable has one field,
// is printed at start, and README.md documents it.
func TestVariables_DeclaredOnceAndDocumented(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Load(envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	printed := strings.Join(c.Lines(), "\n")
	seen := map[string]bool{}
	for _, v := range Variables() {
		if seen[v] {
			t.Errorf("%s is declared twice", v)
		}
		seen[v] = true
		if !strings.Contains(string(readme), v) {
			t.Errorf("README.md does not document %s", v)
		}
		if !strings.Contains(printed, v+"=") {
			t.Errorf("the start-up printout leaves out %s", v)
		}
	}
	if len(seen) < 27 {
		t.Errorf("%d variables, want every one of the 27 Klaxon reads", len(seen))
	}
}

func TestLoad_Matrix(t *testing.T) {
	c, err := Load(envOf(map[string]string{
		"KLAXON_MATRIX_HOMESERVER": "http://127.0.0.1:8008",
		"KLAXON_MATRIX_USER":       "klaxon",
		"KLAXON_MATRIX_PASSWORD":   "sekrit-matrix",
		"KLAXON_MATRIX_ROOMS":      "#klaxon:localhost, !abc:localhost",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.MatrixRooms) != 2 || c.MatrixRooms[0] != "#klaxon:localhost" {
		t.Errorf("rooms = %q", c.MatrixRooms)
	}
	if strings.Contains(strings.Join(c.Lines(), "\n"), "sekrit-matrix") {
		t.Error("the printout shows the Matrix password")
	}
	_, err = Load(envOf(map[string]string{
		"KLAXON_MATRIX_HOMESERVER": "matrix.example.org",
		"KLAXON_MATRIX_ROOMS":      "klaxon",
	}))
	for _, want := range []string{"must be an http(s) URL", "KLAXON_MATRIX_USER and KLAXON_MATRIX_PASSWORD, or KLAXON_MATRIX_TOKEN", `not "klaxon"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not say %q", err, want)
		}
	}
}
