package main

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The files in deploy/ each run one tally command line. This test keeps
// them runnable: every command line they hold must name a real subcommand
// with flags it accepts.

const deployDir = "../../deploy"

// deployBinary is where every deploy file expects the binary.
const deployBinary = "/usr/local/bin/tally"

// deployCommands lists, per file, the subcommands its command lines run.
var deployCommands = map[string][]string{
	"crontab":                        {"run", "scan"},
	"systemd/tally-run.service":      {"run"},
	"systemd/tally-schedule.service": {"schedule"},
	"kubernetes/tally.yaml":          {"schedule"},
}

// commandLines returns the argument lists following each deployBinary in
// text: up to a shell operator or redirection, with YAML/JSON list quoting
// removed.
func commandLines(text string) [][]string {
	var out [][]string
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		_, rest, ok := strings.Cut(line, deployBinary)
		if !ok {
			continue
		}
		rest = strings.NewReplacer(`"`, " ", "[", " ", "]", " ", ",", " ").Replace(rest)
		var args []string
		for _, f := range strings.Fields(rest) {
			if strings.ContainsAny(f[:1], "><|&;") || strings.HasPrefix(f, "2>") {
				break
			}
			args = append(args, f)
		}
		out = append(out, args)
	}
	return out
}

// checkCommandLine reports whether args parse as a tally command line:
// a registered subcommand, known flags, and positional arguments it takes.
func checkCommandLine(t *testing.T, where string, args []string, validateArgs bool) {
	t.Helper()
	root := newRootCmd(strings.NewReader(""), io.Discard, io.Discard)
	cmd, rest, err := root.Find(args)
	if err != nil || cmd == root {
		t.Errorf("%s: tally %s: not a tally subcommand (%v)", where, strings.Join(args, " "), err)
		return
	}
	if err := cmd.ParseFlags(rest); err != nil {
		t.Errorf("%s: tally %s: %v", where, strings.Join(args, " "), err)
		return
	}
	if validateArgs {
		if err := cmd.ValidateArgs(cmd.Flags().Args()); err != nil {
			t.Errorf("%s: tally %s: %v", where, strings.Join(args, " "), err)
		}
	}
}

func TestDeployFilesRunRealCommands(t *testing.T) {
	for file, want := range deployCommands {
		t.Run(file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(deployDir, file))
			if err != nil {
				t.Fatal(err)
			}
			lines := commandLines(string(b))
			var got []string
			for _, args := range lines {
				if len(args) > 0 {
					got = append(got, args[0])
				}
			}
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Fatalf("runs %v, want %v", got, want)
			}
			for _, args := range lines {
				if !strings.Contains(strings.Join(args, " "), "--config /etc/tally/tally.toml") {
					t.Errorf("tally %s: want --config /etc/tally/tally.toml", strings.Join(args, " "))
				}
				t.Run(strings.Join(args, " "), func(t *testing.T) {
					checkCommandLine(t, file, args, true)
				})
			}
		})
	}
}

func TestDeployReadmeCommands(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(deployDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	for file := range deployCommands {
		if !strings.Contains(readme, "("+file+")") {
			t.Errorf("README.md does not link %s", file)
		}
	}
	// Inline `tally ...` commands name real subcommands and flags.
	spans := regexp.MustCompile("`tally ([a-z][^`]*)`").FindAllStringSubmatch(readme, -1)
	if len(spans) < 4 {
		t.Fatalf("README.md names only %d tally commands", len(spans))
	}
	for _, m := range spans {
		t.Run(m[1], func(t *testing.T) {
			checkCommandLine(t, "README.md", strings.Fields(m[1]), false)
		})
	}
}

// TestDeployReadmeNamesEveryFile: deploy/README.md links every file in
// deploy/, by its path from there.
func TestDeployReadmeNamesEveryFile(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(deployDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	err = filepath.WalkDir(deployDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(deployDir, path)
		if err != nil || rel == "README.md" {
			return err
		}
		n++
		if rel = filepath.ToSlash(rel); !strings.Contains(string(b), "("+rel+")") {
			t.Errorf("deploy/README.md does not link %s", rel)
		}
		return nil
	})
	if err != nil || n < len(deployCommands) {
		t.Fatalf("walked %d files (%v)", n, err)
	}
}

func TestDeployHardeningAndConfig(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(deployDir, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for _, unit := range []string{"systemd/tally-run.service", "systemd/tally-schedule.service"} {
		s := read(unit)
		for _, want := range []string{"\nUser=tally\n", "\nNoNewPrivileges=yes\n", "\nProtectSystem=strict\n",
			"\nPrivateTmp=yes\n", "\nReadWritePaths=/var/lib/tally\n", "\nEnvironmentFile=/etc/tally/secrets.env\n"} {
			if !strings.Contains(s, want) {
				t.Errorf("%s lacks %q", unit, strings.TrimSpace(want))
			}
		}
	}
	if s := read("systemd/tally-run.service"); !strings.Contains(s, "\nType=oneshot\n") {
		t.Error("tally-run.service is not Type=oneshot")
	}
	if s := read("systemd/tally-run.timer"); !strings.Contains(s, "\nUnit=tally-run.service\n") || !strings.Contains(s, "\nPersistent=yes\n") {
		t.Error("tally-run.timer does not start tally-run.service persistently")
	}
}
