// Package texts lets an operator override Klaxon's user-facing texts with
// templates of their own (KLAXON_TEXTS), checked once at start: a text
// Klaxon does not have, a template that does not parse, one that leaves
// out what the text must say (a page's reply code) or names a variable the
// text does not have is refused, all in one error, before anything runs.
// A text that is not overridden is Klaxon's own, built in code.
//
// Templates are Go text/template, either one file of
// {{define "NAME"}}...{{end}} blocks or a directory of NAME.tmpl files, one
// per text. A text's variables are strings: {{.PageID}}, {{.Code}}, ...
package texts

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"text/template"

	"github.com/klaxonhq/klaxon/sms"
)

// Spec is one text that can be overridden: its variables, with a sample
// value each, and the ones an override must use.
type Spec struct {
	Name string
	// What the text is, for the README and error messages.
	About string
	// Vars are the text's variables and sample values, distinct enough
	// to be found in a rendered sample.
	Vars map[string]string
	// Required are the variables whose value the text must show.
	Required []string
	// FitSMS shortens .Summary so that the text fits one SMS segment (two
	// when it needs UCS-2), never the rest.
	FitSMS bool
}

// Specs are every text an operator can override.
func Specs() []Spec {
	page := map[string]string{"Brand": "Acme Ops", "PageID": "4821", "Code": "73", "Summary": "zz summary zz", "Details": "zz details zz", "RequestedBy": "zz requester zz"}
	return []Spec{
		{Name: "page.sms", About: "the text of a page", Vars: page, Required: []string{"Code"}, FitSMS: true},
		{Name: "page.email.subject", About: "the subject of a page's email", Vars: page, Required: []string{"PageID"}},
		{Name: "page.email.body", About: "the body of a page's email", Vars: page, Required: []string{"PageID"}},
		{Name: "page.call", About: "what a page's call says before the keys (read twice)", Vars: map[string]string{
			"Brand": "Acme Ops", "PageID": "4821", "Code": "73", "Summary": "zz summary zz", "RequestedBy": "zz requester zz"}},
	}
}

// Texts are an operator's overrides. The zero value and nil override
// nothing.
type Texts struct {
	tmpl  map[string]*template.Template
	specs map[string]Spec
}

// Load reads and checks the overrides at path: a file of define blocks, or
// a directory of NAME.tmpl files. An empty path overrides nothing.
func Load(path string) (*Texts, error) {
	if path == "" {
		return &Texts{}, nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("KLAXON_TEXTS: %w", err)
	}
	sources := map[string]string{} // name -> template text
	var problems []string
	if fi.IsDir() {
		entries, err := os.ReadDir(path)
		if err != nil {
			return nil, fmt.Errorf("KLAXON_TEXTS: %w", err)
		}
		for _, e := range entries {
			if e.IsDir() || !strings.HasSuffix(e.Name(), ".tmpl") {
				continue
			}
			b, err := os.ReadFile(filepath.Join(path, e.Name()))
			if err != nil {
				return nil, fmt.Errorf("KLAXON_TEXTS: %w", err)
			}
			sources[strings.TrimSuffix(e.Name(), ".tmpl")] = string(b)
		}
	} else {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("KLAXON_TEXTS: %w", err)
		}
		root, err := template.New(filepath.Base(path)).Option("missingkey=error").Parse(string(b))
		if err != nil {
			return nil, fmt.Errorf("KLAXON_TEXTS %s: %w", path, err)
		}
		for _, t := range root.Templates() {
			if t.Name() == root.Name() {
				if strings.TrimSpace(t.Root.String()) != "" {
					problems = append(problems, `text outside {{define "NAME"}}...{{end}} blocks`)
				}
				continue
			}
			sources[t.Name()] = t.Root.String()
		}
	}
	t, err := parse(sources)
	if err != nil {
		problems = append(problems, strings.Split(err.Error(), "\n")...)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("KLAXON_TEXTS %s: %s", path, strings.Join(problems, "; "))
	}
	return t, nil
}

// Parse checks overrides given as name -> template text.
func Parse(sources map[string]string) (*Texts, error) { return parse(sources) }

func parse(sources map[string]string) (*Texts, error) {
	t := &Texts{tmpl: map[string]*template.Template{}, specs: map[string]Spec{}}
	known := map[string]Spec{}
	var names []string
	for _, s := range Specs() {
		known[s.Name] = s
		names = append(names, s.Name)
	}
	var problems []string
	keys := make([]string, 0, len(sources))
	for k := range sources {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, name := range keys {
		spec, ok := known[name]
		if !ok {
			problems = append(problems, fmt.Sprintf("%q is not a text Klaxon has (it has %s)", name, strings.Join(names, ", ")))
			continue
		}
		tm, err := template.New(name).Option("missingkey=error").Parse(sources[name])
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", name, err))
			continue
		}
		var b strings.Builder
		if err := tm.Execute(&b, spec.Vars); err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v (its variables are %s)", name, err, varList(spec)))
			continue
		}
		for _, v := range spec.Required {
			if !strings.Contains(b.String(), spec.Vars[v]) {
				problems = append(problems, fmt.Sprintf("%s must show {{.%s}}", name, v))
			}
		}
		t.tmpl[name], t.specs[name] = tm, spec
	}
	if len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "\n"))
	}
	return t, nil
}

func varList(s Spec) string {
	vs := make([]string, 0, len(s.Vars))
	for v := range s.Vars {
		vs = append(vs, "."+v)
	}
	slices.Sort(vs)
	return strings.Join(vs, ", ")
}

// Has reports whether the operator overrides the text name.
func (t *Texts) Has(name string) bool {
	if t == nil {
		return false
	}
	_, ok := t.tmpl[name]
	return ok
}

// Names lists the overridden texts.
func (t *Texts) Names() []string {
	if t == nil {
		return nil
	}
	out := make([]string, 0, len(t.tmpl))
	for n := range t.tmpl {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Render renders the override of name with vars (each variable of the text
// is there, "" when vars lacks it). ok is false when name is not
// overridden; the caller then uses Klaxon's own text.
func (t *Texts) Render(name string, vars map[string]string) (text string, ok bool, err error) {
	if !t.Has(name) {
		return "", false, nil
	}
	spec := t.specs[name]
	data := make(map[string]string, len(spec.Vars))
	for v := range spec.Vars {
		data[v] = vars[v]
	}
	if !spec.FitSMS {
		s, err := t.exec(name, data)
		return s, err == nil, err
	}
	// The summary is shortened to fit, never the rest: render around a
	// marker, then fit the summary before what follows it.
	const marker = "\x00"
	summary := data["Summary"]
	data["Summary"] = marker
	whole, err := t.exec(name, data)
	if err != nil {
		return "", false, err
	}
	head, tail, found := strings.Cut(whole, marker)
	if !found {
		return whole, true, nil
	}
	tail = strings.ReplaceAll(tail, marker, "")
	segments := 1
	if sms.EncodingOf(head+summary+tail) == sms.UCS2 {
		segments = 2
	}
	return sms.Fit(head+summary, tail, segments), true, nil
}

func (t *Texts) exec(name string, data map[string]string) (string, error) {
	var b strings.Builder
	if err := t.tmpl[name].Execute(&b, data); err != nil {
		return "", fmt.Errorf("text %s: %w", name, err)
	}
	return strings.TrimSpace(b.String()), nil
}
