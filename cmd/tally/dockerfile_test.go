package main

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// No container runtime runs in the tests: these check the Dockerfile as
// text (its stages, user, volume and command), then run the command it
// starts with the binary the tests build, /data being a temporary folder.

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct{ op, args string }

// dockerStage is one FROM and the instructions after it.
type dockerStage struct {
	from, name string
	ins        []instruction
}

func parseDockerfile(t *testing.T, path string) []dockerStage {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var stages []dockerStage
	var cur strings.Builder
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		if rest, ok := strings.CutSuffix(line, "\\"); ok {
			cur.WriteString(rest + " ")
			continue
		}
		cur.WriteString(line)
		text := strings.TrimSpace(cur.String())
		cur.Reset()
		if text == "" {
			continue
		}
		op, args, _ := strings.Cut(text, " ")
		op, args = strings.ToUpper(op), strings.Join(strings.Fields(args), " ")
		if op == "FROM" {
			f := strings.Fields(args)
			s := dockerStage{from: f[0]}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				s.name = f[2]
			}
			stages = append(stages, s)
			continue
		}
		if len(stages) == 0 {
			t.Fatalf("%s: %s before FROM", path, op)
		}
		stages[len(stages)-1].ins = append(stages[len(stages)-1].ins, instruction{op, args})
	}
	return stages
}

// get returns the arguments of each op instruction in s.
func (s dockerStage) get(op string) []string {
	var out []string
	for _, in := range s.ins {
		if in.op == op {
			out = append(out, in.args)
		}
	}
	return out
}

// execForm decodes an instruction's JSON-array (exec) form.
func execForm(t *testing.T, op, args string) []string {
	t.Helper()
	var out []string
	if err := json.Unmarshal([]byte(args), &out); err != nil {
		t.Fatalf("%s %s: not the exec form (a JSON array; no shell in the image): %v", op, args, err)
	}
	return out
}

// imageCommand checks the Dockerfile and returns the command line its
// image runs by default (ENTRYPOINT then CMD).
func imageCommand(t *testing.T) []string {
	t.Helper()
	stages := parseDockerfile(t, "../../Dockerfile")
	if len(stages) != 2 {
		t.Fatalf("%d stages, want build and run", len(stages))
	}
	build, final := stages[0], stages[1]

	// The Go image is the toolchain go.mod names.
	mod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	goVersion := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(mod)
	if goVersion == nil || !strings.HasPrefix(build.from, "golang:"+string(goVersion[1])+"-") || build.name != "build" {
		t.Errorf("build stage FROM %s AS %s, want golang:%s-... AS build", build.from, build.name, goVersion[1])
	}
	runs := strings.Join(build.get("RUN"), "\n")
	for _, want := range []string{"CGO_ENABLED=0 go build -trimpath", "-X main.version=${VERSION}", "-X main.revision=${REVISION}",
		"-X main.buildTime=${BUILD_TIME}", "/etc/ssl/certs/ca-certificates.crt"} {
		if !strings.Contains(runs, want) {
			t.Errorf("build stage does not run %q", want)
		}
	}

	if final.from != "scratch" {
		t.Errorf("run stage FROM %s, want scratch", final.from)
	}
	for _, c := range final.get("COPY") {
		if !strings.HasPrefix(c, "--from=build ") {
			t.Errorf("run stage COPY %s: want everything from the build stage", c)
		}
	}
	user := final.get("USER")
	uid, err := strconv.Atoi(strings.Split(strings.Join(user, ""), ":")[0])
	if len(user) != 1 || err != nil || uid == 0 {
		t.Errorf("USER %v, want one numeric non-root user", user)
	}
	if v := final.get("VOLUME"); strings.Join(v, "|") != "/data" {
		t.Errorf("VOLUME %v, want /data", v)
	}
	if w := final.get("WORKDIR"); strings.Join(w, "|") != "/data" {
		t.Errorf("WORKDIR %v, want /data", w)
	}
	if e := final.get("EXPOSE"); strings.Join(e, "|") != "8080" {
		t.Errorf("EXPOSE %v, want 8080", e)
	}
	entry, cmd := final.get("ENTRYPOINT"), final.get("CMD")
	if len(entry) != 1 || len(cmd) != 1 {
		t.Fatalf("ENTRYPOINT %v, CMD %v: want one of each", entry, cmd)
	}
	if e := execForm(t, "ENTRYPOINT", entry[0]); strings.Join(e, " ") != deployBinary {
		t.Errorf("ENTRYPOINT %v, want [%s]", e, deployBinary)
	}
	args := execForm(t, "CMD", cmd[0])
	if len(args) == 0 || args[0] != "schedule" {
		t.Fatalf("CMD %v, want tally schedule", args)
	}
	checkCommandLine(t, "Dockerfile", args, true)
	return args
}

// TestDockerImageRunsSchedule runs the image's default command as the
// image would: in an empty /data (here a temporary folder) with no
// config; the intake answers /healthz, the database and the key are
// created on the volume, and SIGTERM stops it with exit 0.
func TestDockerImageRunsSchedule(t *testing.T) {
	args := imageCommand(t)
	data := t.TempDir()
	for i, a := range args {
		a = strings.ReplaceAll(a, "/data/", data+"/")
		if a == ":8080" {
			a = "127.0.0.1:0" // a free port
		}
		args[i] = a
	}
	srv := startListening(t, data, nil, args...)
	resp, err := http.Get("http://" + srv.Addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz: %d\n%s", resp.StatusCode, srv.logs.Bytes())
	}
	if err := srv.stop(t, syscall.SIGTERM); err != nil {
		t.Errorf("exit after SIGTERM: %v\n%s", err, srv.logs.Bytes())
	}
	for _, name := range []string{"tally.db", "tally.key"} {
		if _, err := os.Stat(filepath.Join(data, name)); err != nil {
			t.Errorf("not on the volume: %v", err)
		}
	}
}

// The image has no zone database: the binary carries one
// (rollup.timezone names an IANA zone).
func TestBinaryEmbedsZoneDatabase(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains("\n"+string(out), "\ntime/tzdata\n") {
		t.Error("cmd/tally does not import time/tzdata")
	}
}
