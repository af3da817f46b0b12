package scan

import (
	"bufio"
	"bytes"
	"strings"
)

// robots is the part of a robots.txt (RFC 9309) that applies to tally: the
// rules of the group naming tally's product token, else of the "*" groups.
type robots struct {
	rules   []robotsRule
	denyAll bool // robots.txt was unreachable (5xx, network): crawl nothing
}

type robotsRule struct {
	allow   bool
	pattern string
}

// parseRobots reads a robots.txt for the crawler whose product token is
// agent (matched without regard to case).
func parseRobots(body []byte, agent string) *robots {
	agent = strings.ToLower(agent)
	var mine, star []robotsRule
	var foundMine bool
	var groupAgents []string
	inRules := false // a rule line ends a run of user-agent lines
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 0, 4096), len(body)+1)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		key = strings.ToLower(strings.TrimSpace(key))
		val = strings.TrimSpace(val)
		switch key {
		case "user-agent":
			if inRules {
				groupAgents = nil
				inRules = false
			}
			groupAgents = append(groupAgents, strings.ToLower(val))
		case "allow", "disallow":
			inRules = true
			if val == "" {
				continue // "Disallow:" with no path allows everything
			}
			r := robotsRule{allow: key == "allow", pattern: val}
			for _, a := range groupAgents {
				switch a {
				case agent:
					foundMine = true
					mine = append(mine, r)
				case "*":
					star = append(star, r)
				}
			}
		}
	}
	if foundMine {
		return &robots{rules: mine}
	}
	return &robots{rules: star}
}

// allowed reports whether path (URL path plus "?query" when there is one)
// may be fetched: the longest matching rule decides, and allow wins a tie.
func (r *robots) allowed(path string) bool {
	if r == nil {
		return true
	}
	if r.denyAll {
		return false
	}
	if path == "" {
		path = "/"
	}
	best, allow := -1, true
	for _, rule := range r.rules {
		if !robotsMatch(rule.pattern, path) {
			continue
		}
		n := len(rule.pattern)
		if n > best || (n == best && rule.allow) {
			best, allow = n, rule.allow
		}
	}
	return allow
}

// robotsMatch matches a robots.txt path pattern against path from its
// start: `*` matches any run of characters, a final `$` anchors the end,
// and otherwise the pattern is a prefix.
func robotsMatch(pattern, path string) bool {
	if strings.HasSuffix(pattern, "$") {
		pattern = pattern[:len(pattern)-1]
	} else {
		pattern += "*"
	}
	return glob(pattern, path)
}

// glob matches s against p, where `*` matches any run of bytes, in linear
// time for a fixed pattern (backtracking only to the last star).
func glob(p, s string) bool {
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case pi < len(p) && p[pi] == s[si]:
			pi++
			si++
		case star >= 0:
			mark++
			pi, si = star+1, mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}
