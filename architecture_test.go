package tally_test

import (
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestArchitectureMatchesImports: every "package: imports" line of
// docs/ARCHITECTURE.md names exactly the tally packages that package
// imports (go list), so the picture cannot drift from the code; and config
// is imported by no package but cmd/tally and internal/wire.
func TestArchitectureMatchesImports(t *testing.T) {
	const mod = "github.com/tally-health/tally"
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}:{{join .Imports ","}}`, "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	actual := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, imps, _ := strings.Cut(line, ":")
		name := short(mod, pkg)
		actual[name] = []string{}
		for _, imp := range strings.Split(imps, ",") {
			if imp == mod || strings.HasPrefix(imp, mod+"/") {
				actual[name] = append(actual[name], short(mod, imp))
			}
		}
		slices.Sort(actual[name])
		if slices.Contains(actual[name], "config") && name != "cmd/tally" && name != "internal/wire" {
			t.Errorf("%s imports config: only cmd/tally and internal/wire turn configuration into pieces", name)
		}
	}
	doc, err := os.ReadFile("docs/ARCHITECTURE.md")
	if err != nil {
		t.Fatal(err)
	}
	lines := regexp.MustCompile(`(?m)^([a-z/]+):\s+(.+)$`).FindAllStringSubmatch(string(doc), -1)
	if len(lines) < 15 {
		t.Fatalf("found %d import lines in docs/ARCHITECTURE.md", len(lines))
	}
	for _, m := range lines {
		want := []string{}
		if m[2] != "(none)" {
			want = strings.Split(m[2], ", ")
		}
		slices.Sort(want)
		got, ok := actual[m[1]]
		if !ok {
			t.Errorf("docs/ARCHITECTURE.md names %s, which is not a package", m[1])
			continue
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s imports %v; docs/ARCHITECTURE.md says %v", m[1], got, want)
		}
	}
}

func short(mod, pkg string) string {
	if pkg == mod {
		return "tally"
	}
	return strings.TrimPrefix(pkg, mod+"/")
}
