package zones

import (
	"bufio"
	"bytes"
	"strconv"
	"strings"
)

// MaxSteeredStates bounds policies × regions × CDNs: the health engine
// keeps a state for each and scores, judges and plans every one of them
// at each evaluation (every second by default). Measured with
// health.BenchmarkEvaluate1000DistinctPolicies (1,000 policies of 20
// regions and 6 CDNs, no two alike, so nothing is shared: 120,000 states
// in about 0.29 s of CPU on a loaded 2-core machine), 200,000 states take
// about half a second of a core each second: past it the engine would
// hold the core the DNS answers need. Names that share a policy cost one
// policy, not one each (README, "Scale: many steered names").
const MaxSteeredStates = 200_000

// scaleError is the problem of a policy past MaxSteeredStates, or "".
func scaleError(nP, nR, nC int) string {
	n := nP * nR * nC
	if n <= MaxSteeredStates {
		return ""
	}
	return grouped(nP) + " policies × " + grouped(nR) + " regions × " + grouped(nC) + " CDNs = " + grouped(n) +
		" steered states, over cdnsteer's limit of " + grouped(MaxSteeredStates) +
		" (the health engine evaluates each one every evaluation_interval); let steered names with the same " +
		"contract share a policy ([[zone.steer]] entries may name the same one), or split the names over " +
		"several policy files and servers"
}

// scanScale counts, before the document is decoded, the policies, regions
// and CDNs its table headers name: [policy.P...], [policy.P.region.R...],
// the keys of [regions] and [cdn.C...]. Each is at most the real count
// (a policy set with dotted keys instead is not seen), so a product past
// the limit here is past it after compiling too, and the file is refused
// without decoding: a policy of 10,000 names took 2 GB to decode.
func scanScale(data []byte) string {
	policies, regions, cdns := map[string]bool{}, map[string]bool{DefaultRegion: true}, map[string]bool{}
	inRegions := false
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), len(data)+1)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "[") {
			if inRegions {
				if k, _, ok := strings.Cut(line, "="); ok {
					if key := dotted(k); len(key) == 1 {
						regions[key[0]] = true
					}
				}
			}
			continue
		}
		inRegions = false
		if strings.HasPrefix(line, "[[") {
			continue
		}
		end := strings.LastIndexByte(line, ']')
		if end < 0 {
			continue
		}
		key := dotted(line[1:end])
		switch {
		case len(key) == 1 && key[0] == "regions":
			inRegions = true
		case len(key) >= 2 && key[0] == "policy":
			policies[key[1]] = true
			if len(key) >= 4 && key[2] == "region" {
				regions[key[3]] = true
			}
		case len(key) >= 2 && key[0] == "cdn":
			cdns[key[1]] = true
		}
	}
	return scaleError(len(policies), len(regions), len(cdns))
}

// dotted splits a TOML key (bare, "quoted" or 'literal' parts joined by
// dots) into its parts; nil when it is not one.
func dotted(k string) []string {
	var parts []string
	k = strings.TrimSpace(k)
	for {
		var part string
		switch {
		case strings.HasPrefix(k, `"`) || strings.HasPrefix(k, "'"):
			q := k[0]
			end := strings.IndexByte(k[1:], q)
			if end < 0 || q == '"' && strings.Contains(k[1:end+1], `\`) {
				return nil // escapes: not worth decoding here
			}
			part, k = k[1:end+1], k[end+2:]
		default:
			end := strings.IndexAny(k, ". \t")
			if end < 0 {
				end = len(k)
			}
			part, k = k[:end], k[end:]
			if part == "" {
				return nil
			}
		}
		parts = append(parts, part)
		k = strings.TrimSpace(k)
		if k == "" {
			return parts
		}
		if k[0] != '.' {
			return nil
		}
		k = strings.TrimSpace(k[1:])
	}
}

// checkScale refuses a policy whose product of policies, regions and
// CDNs is past MaxSteeredStates, naming the product and the limit. It
// names no line: no one section is at fault.
func (c *compiler) checkScale(s *Snapshot) {
	if msg := scaleError(len(s.Policies), len(s.Regions), len(s.CDNs)); msg != "" {
		c.el.AddLine(0, "%s", msg)
	}
}

// grouped writes n with thousands separators: 1,200,000.
func grouped(n int) string {
	s := strconv.Itoa(n)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	out := make([]byte, 0, len(s)+len(s)/3)
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}
