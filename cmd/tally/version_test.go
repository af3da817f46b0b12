package main

import (
	"crypto/sha256"
	"debug/elf"
	"debug/macho"
	"debug/pe"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tally-health/tally/store"
)

func TestVersionReportsBuildAndSchema(t *testing.T) {
	code, out, stderr := runTally(t, "version", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var b buildInfo
	if err := json.Unmarshal([]byte(out), &b); err != nil {
		t.Fatalf("version --json: %v\n%s", err, out)
	}
	if b.Version == "" || b.Go != runtime.Version() || b.Schema != store.SchemaVersion() {
		t.Errorf("version --json = %+v, want a version, %s and schema %d", b, runtime.Version(), store.SchemaVersion())
	}
	_, text, _ := runTally(t, "version")
	if b.Revision == "" && !strings.Contains(text, "revision: unknown\n") {
		t.Errorf("a build without a revision prints %q, want revision: unknown", text)
	}
	for _, want := range []string{"tally " + b.Version + "\n", "go:       " + runtime.Version() + "\n", "schema:   " + strconv.Itoa(b.Schema) + "\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("version prints %q, want %q in it", text, want)
		}
	}
}

// The release script's -X values win over the toolchain's stamp, all
// three together.
func TestVersionLinkerValuesWin(t *testing.T) {
	defer func(v, r, bt string) { version, revision, buildTime = v, r, bt }(version, revision, buildTime)
	version, revision, buildTime = "v1.2.3", "0123456789abcdef0123456789abcdef01234567", "2026-11-29T12:00:00Z"
	b := currentBuild()
	if b.Version != version || b.Revision != revision || b.Time != buildTime || b.Modified {
		t.Errorf("currentBuild() = %+v, want the -X values", b)
	}
}

// repoClone fetches this checkout's HEAD commit into a new repository in
// a temporary folder and returns the folder and the commit. It tests what
// is committed: uncommitted changes are not in the clone.
func repoClone(t *testing.T) (dir, rev string) {
	t.Helper()
	git := func(dir string, args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("git %s: %v", strings.Join(args, " "), err)
		}
		return strings.TrimSpace(string(out))
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	root, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Skip("not a git checkout")
	}
	rev = git(".", "rev-parse", "HEAD")
	dir = t.TempDir()
	git(dir, "init", "-q")
	git(dir, "fetch", "-q", strings.TrimSpace(string(root)), "HEAD")
	git(dir, "checkout", "-q", "FETCH_HEAD")
	return dir, rev
}

// goEnv is the environment for a go command in a clone: the machine's
// GOFLAGS with -buildvcs=auto last. A go env may hold -buildvcs=false
// (this machine's does), which would leave the binary without its
// revision; the last of a repeated flag wins.
func goEnv(t *testing.T, extra ...string) []string {
	t.Helper()
	flags, err := exec.Command("go", "env", "GOFLAGS").Output()
	if err != nil {
		t.Fatal(err)
	}
	return append(append(os.Environ(), "GOFLAGS="+strings.TrimSpace(string(flags)+" -buildvcs=auto")), extra...)
}

// runVersion runs bin version --json.
func runVersion(t *testing.T, bin string) buildInfo {
	t.Helper()
	out, err := exec.Command(bin, "version", "--json").Output()
	if err != nil {
		t.Fatalf("%s version --json: %v", bin, err)
	}
	var b buildInfo
	if err := json.Unmarshal(out, &b); err != nil {
		t.Fatalf("%s version --json: %v\n%s", bin, err, out)
	}
	return b
}

func TestGoBuildInCloneReportsRevision(t *testing.T) {
	dir, rev := repoClone(t)
	cmd := exec.Command("go", "build", "-o", "tally-bin", "./cmd/tally")
	cmd.Dir, cmd.Env = dir, goEnv(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	b := runVersion(t, filepath.Join(dir, "tally-bin"))
	if b.Revision != rev || b.Modified || b.Time == "" {
		t.Errorf("version --json = %+v, want revision %s, unmodified, with its time", b, rev)
	}
	// The module version the toolchain derives from an untagged commit
	// is a pseudo-version ending in the commit's first 12 digits.
	if !strings.HasSuffix(b.Version, rev[:12]) {
		t.Errorf("version %q, want a pseudo-version of %s", b.Version, rev[:12])
	}
	// A change not committed: the same revision, marked modified.
	write(t, filepath.Join(dir, "README.md"), "edited\n")
	cmd = exec.Command("go", "build", "-o", "tally-bin", "./cmd/tally")
	cmd.Dir, cmd.Env = dir, goEnv(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	if b := runVersion(t, filepath.Join(dir, "tally-bin")); b.Revision != rev || !b.Modified {
		t.Errorf("after an edit: version --json = %+v, want revision %s, modified", b, rev)
	}
	out, err := exec.Command(filepath.Join(dir, "tally-bin"), "version").Output()
	if err != nil || !strings.Contains(string(out), "revision: "+rev+"+modified\n") {
		t.Errorf("after an edit: version prints %q (%v), want revision %s+modified", out, err, rev)
	}
}

// runRelease runs scripts/release.sh in dir with args and extra env.
func runRelease(t *testing.T, dir string, env []string, args ...string) (code int, stderr string) {
	t.Helper()
	cmd := exec.Command(filepath.Join(dir, "scripts", "release.sh"), args...)
	cmd.Dir, cmd.Env = dir, goEnv(t, env...)
	var errb strings.Builder
	cmd.Stderr = &errb
	err := cmd.Run()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), errb.String()
}

// checkSums checks that dir's SHA256SUMS lists exactly names, with each
// file's digest.
func checkSums(t *testing.T, dir string, names []string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	for _, name := range names {
		body, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(body)
		want.WriteString(hex.EncodeToString(sum[:]) + "  " + name + "\n")
	}
	if string(b) != want.String() {
		t.Errorf("SHA256SUMS:\n%s\nwant:\n%s", b, want.String())
	}
}

// checkStaticELF checks that an ELF binary for machine has no program
// interpreter and needs no shared library: it runs from an empty image.
func checkStaticELF(t *testing.T, path string, machine elf.Machine) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Machine != machine {
		t.Errorf("%s: machine %v, want %v", path, f.Machine, machine)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("%s: has a program interpreter: not static", path)
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("%s: needs %v: not static", path, libs)
	}
}

// sameInstant reports whether two RFC 3339 times name the same instant.
func sameInstant(t *testing.T, a, b string) bool {
	t.Helper()
	ta, err := time.Parse(time.RFC3339, a)
	if err != nil {
		t.Fatal(err)
	}
	tb, err := time.Parse(time.RFC3339, b)
	if err != nil {
		t.Fatal(err)
	}
	return ta.Equal(tb)
}

// The release script's checks come before any build: each refusal is
// quick and leaves no binary behind.
func TestReleaseScriptRefuses(t *testing.T) {
	dir, _ := repoClone(t)
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T) []string // returns the script's arguments
		want  string
	}{
		{"a version with a space", func(t *testing.T) []string { return []string{"v1 -X main.revision=x"} }, "want something like v1.2.0"},
		{"no version", func(t *testing.T) []string { return nil }, "usage:"},
		{"an output folder in use", func(t *testing.T) []string {
			out := t.TempDir()
			write(t, filepath.Join(out, "tally-v1.0.0-linux-amd64"), "an earlier release")
			return []string{"v1.0.0", out}
		}, "is never overwritten"},
		{"uncommitted changes", func(t *testing.T) []string {
			readme := filepath.Join(dir, "README.md")
			body, err := os.ReadFile(readme)
			if err != nil {
				t.Fatal(err)
			}
			write(t, readme, string(body)+"\nedited\n")
			t.Cleanup(func() { write(t, readme, string(body)) })
			return []string{"v1.0.0", t.TempDir()}
		}, "uncommitted changes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := tc.setup(t)
			code, stderr := runRelease(t, dir, nil, args...)
			if code != 2 || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, tc.want)
			}
			if strings.Contains(stderr, " -> ") { // the script's "build TARGET -> FILE" line
				t.Errorf("built before refusing: %s", stderr)
			}
		})
	}
}

// TestReleaseScriptHostTarget runs scripts/release.sh for this machine's
// platform only: a cold -trimpath build of one target takes minutes on
// two cores, four take four times that. TALLY_RELEASE_ALL=1 builds all
// four targets and checks each binary's format (see docs/TESTING.md).
func TestReleaseScriptHostTarget(t *testing.T) {
	dir, rev := repoClone(t)
	host := runtime.GOOS + "/" + runtime.GOARCH
	targets := host
	if os.Getenv("TALLY_RELEASE_ALL") == "1" {
		targets = "" // the script's default: all four
	}
	out := filepath.Join(t.TempDir(), "dist")
	const v = "v9.8.7-rc.1"
	code, stderr := runRelease(t, dir, []string{"TARGETS=" + targets}, v, out)
	if code != 0 {
		t.Fatalf("release.sh: exit %d\n%s", code, stderr)
	}
	name := func(goos, goarch string) string {
		n := "tally-" + v + "-" + goos + "-" + goarch
		if goos == "windows" {
			n += ".exe"
		}
		return n
	}
	names := []string{name(runtime.GOOS, runtime.GOARCH)}
	if targets == "" {
		names = []string{name("linux", "amd64"), name("linux", "arm64"), name("darwin", "arm64"), name("windows", "amd64")}
	}
	checkSums(t, out, names)

	b := runVersion(t, filepath.Join(out, name(runtime.GOOS, runtime.GOARCH)))
	commitTime, err := exec.Command("git", "-C", dir, "log", "-1", "--format=%cI", "HEAD").Output()
	if err != nil {
		t.Fatal(err)
	}
	if b.Version != v || b.Revision != rev || b.Modified || b.Time == "" || b.Schema != store.SchemaVersion() {
		t.Errorf("release binary: version --json = %+v, want %s at %s", b, v, rev)
	}
	if !sameInstant(t, b.Time, strings.TrimSpace(string(commitTime))) {
		t.Errorf("release binary: time %s, want the commit's time %s", b.Time, commitTime)
	}
	if runtime.GOOS == "linux" {
		checkStaticELF(t, filepath.Join(out, names[0]), map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[runtime.GOARCH])
	}
	if targets == "" {
		checkStaticELF(t, filepath.Join(out, name("linux", "amd64")), elf.EM_X86_64)
		checkStaticELF(t, filepath.Join(out, name("linux", "arm64")), elf.EM_AARCH64)
		m, err := macho.Open(filepath.Join(out, name("darwin", "arm64")))
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		if m.Cpu != macho.CpuArm64 {
			t.Errorf("darwin/arm64: cpu %v", m.Cpu)
		}
		w, err := pe.Open(filepath.Join(out, name("windows", "amd64")))
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		if w.Machine != pe.IMAGE_FILE_MACHINE_AMD64 {
			t.Errorf("windows/amd64: machine %#x", w.Machine)
		}
	}
}
