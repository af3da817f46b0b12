package scan

import "testing"

func TestRobots(t *testing.T) {
	const txt = `# comments and odd spacing are fine
User-agent: *
Disallow: /private/
Disallow: /*.php$
Allow: /private/open

user-agent: googlebot
user-agent: TALLY
disallow: /tally-only/
Allow: /tally-only/ok
Disallow: /search?*q=

User-agent: other
Disallow: /
`
	tests := []struct {
		agent, path string
		want        bool
	}{
		{"tally", "/", true},
		{"tally", "/tally-only/x", false},
		{"tally", "/tally-only/ok/page", true}, // longer allow wins
		{"tally", "/search?lang=en&q=1", false},
		{"tally", "/private/x", true}, // its own group replaces "*"
		{"someone", "/private/x", false},
		{"someone", "/private/open", true},
		{"someone", "/index.php", false},
		{"someone", "/index.php?x=1", true}, // $ anchors the end
		{"someone", "/tally-only/x", true},
	}
	for _, tt := range tests {
		r := parseRobots([]byte(txt), tt.agent)
		if got := r.allowed(tt.path); got != tt.want {
			t.Errorf("%s %s: allowed = %v, want %v", tt.agent, tt.path, got, tt.want)
		}
	}
}

func TestRobotsEdgeCases(t *testing.T) {
	tests := []struct {
		name, txt, path string
		want            bool
	}{
		{"empty file", "", "/x", true},
		{"empty disallow allows", "User-agent: *\nDisallow:\n", "/x", true},
		{"disallow all", "User-agent: *\nDisallow: /\n", "/", false},
		{"tie goes to allow", "User-agent: *\nDisallow: /a\nAllow: /a\n", "/a", true},
		{"rules before any user-agent are ignored", "Disallow: /\n", "/x", true},
		{"wildcard middle", "User-agent: *\nDisallow: /*/admin\n", "/en/admin/users", false},
		{"no crlf trouble", "User-agent: *\r\nDisallow: /x\r\n", "/x", false},
	}
	for _, tt := range tests {
		if got := parseRobots([]byte(tt.txt), AgentToken).allowed(tt.path); got != tt.want {
			t.Errorf("%s: allowed(%s) = %v, want %v", tt.name, tt.path, got, tt.want)
		}
	}
	if !(*robots)(nil).allowed("/x") {
		t.Error("nil robots (ignored) must allow")
	}
	if (&robots{denyAll: true}).allowed("/") {
		t.Error("unreachable robots.txt must deny")
	}
}

func FuzzRobots(f *testing.F) {
	f.Add("User-agent: *\nDisallow: /private/\nAllow: /*.html$\n", "/private/a.html")
	f.Add("User-agent: tally\nDisallow: /**a*b*c$", "/aaaaaaaaaaaaaaaaaaaaaaaabc")
	f.Fuzz(func(t *testing.T, txt, path string) {
		_ = parseRobots([]byte(txt), AgentToken).allowed(path)
	})
}
