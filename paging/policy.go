package paging

import (
	"strings"
	"time"

	"github.com/klaxonhq/klaxon"
)

// A Policy travels in Temporal payloads (the page workflow loads it
// through a local activity); its JSON tags are that payload form and
// the REST API's, and are never renamed.

// PolicyStep is one step of an escalation policy: whom to page (users and
// rotations), and how long to wait for an acknowledgement before the next
// step.
type PolicyStep struct {
	Targets      []string `json:"targets"`
	DelaySeconds int      `json:"delay_seconds"`
}

// Policy is an escalation policy: ordered steps, run again Repeat more times
// after the last one.
type Policy struct {
	ID        int64        `json:"id"`
	Name      string       `json:"name"`
	Repeat    int          `json:"repeat"`
	Steps     []PolicyStep `json:"steps"`
	CreatedAt time.Time    `json:"created_at"`
}

// Policy limits, which the schema also enforces.
const (
	MaxPolicySteps   = 50
	MaxStepTargets   = 20
	MaxPolicyRepeat  = 20
	DefaultStepDelay = 5 * 60
)

// Validate checks a policy and normalises its targets; its errors are
// EInvalid sentences.
func (p *Policy) Validate() error {
	p.Name = strings.TrimSpace(p.Name)
	if p.Name == "" {
		return klaxon.Errorf(klaxon.EInvalid, `Field "name" is required.`)
	}
	if !ValidName(p.Name) {
		return klaxon.Errorf(klaxon.EInvalid, "%q is not a valid policy name: use lowercase letters, digits, '.', '_' and '-' (up to 64).", clip(p.Name, 70))
	}
	if p.Repeat < 0 || p.Repeat > MaxPolicyRepeat {
		return klaxon.Errorf(klaxon.EInvalid, `Field "repeat" must be between 0 and %d.`, MaxPolicyRepeat)
	}
	if len(p.Steps) == 0 {
		return klaxon.Errorf(klaxon.EInvalid, `A policy needs at least one step: "steps": [{"targets": ["user:alice"], "delay_seconds": 300}].`)
	}
	if len(p.Steps) > MaxPolicySteps {
		return klaxon.Errorf(klaxon.EInvalid, "A policy has at most %d steps.", MaxPolicySteps)
	}
	for i := range p.Steps {
		s := &p.Steps[i]
		if s.DelaySeconds == 0 {
			s.DelaySeconds = DefaultStepDelay
		}
		if s.DelaySeconds < 1 || s.DelaySeconds > MaxDelaySeconds {
			return klaxon.Errorf(klaxon.EInvalid, "Step %d: delay_seconds must be between 1 and %d.", i+1, MaxDelaySeconds)
		}
		if len(s.Targets) == 0 {
			return klaxon.Errorf(klaxon.EInvalid, "Step %d names nobody: give it targets such as \"user:alice\" or \"rotation:ops\".", i+1)
		}
		if len(s.Targets) > MaxStepTargets {
			return klaxon.Errorf(klaxon.EInvalid, "Step %d has more than %d targets.", i+1, MaxStepTargets)
		}
		seen := map[string]bool{}
		for j, raw := range s.Targets {
			t, err := ParseTarget(raw)
			if err != nil {
				return klaxon.Errorf(klaxon.EInvalid, "Step %d: %s", i+1, klaxon.ErrorMessageOf(err))
			}
			if t.Kind == TargetPolicy {
				return klaxon.Errorf(klaxon.EInvalid, "Step %d: a policy step names users and rotations, not another policy (%s).", i+1, t)
			}
			if seen[t.String()] {
				return klaxon.Errorf(klaxon.EInvalid, "Step %d names %s twice.", i+1, t)
			}
			seen[t.String()] = true
			s.Targets[j] = t.String()
		}
	}
	return nil
}
