package intake_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/tally-health/tally/intake"
)

// A listener serves the intake on the port it was given (any free one for
// port 0) and, on Shutdown, stops and closes the writer.
func TestListenServesUntilShutdown(t *testing.T) {
	f := newFixture(t, nil)
	var logs bytes.Buffer
	s := intake.NewServer(f.in, f.db, f.db, slog.New(slog.NewTextHandler(&logs, nil)))
	l, err := s.Listen("127.0.0.1:0", f.db.Path)
	if err != nil {
		t.Fatal(err)
	}
	if code, body := get(t, "http://"+l.Addr()+"/healthz"); code != http.StatusOK {
		t.Errorf("healthz: %d %s", code, body)
	}
	if err := l.Shutdown(); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get("http://" + l.Addr() + "/healthz"); err == nil {
		t.Error("still serving after Shutdown")
	}
	if _, err := f.in.Writer.Submit(context.Background(), &intake.Write{}); !errors.Is(err, intake.ErrClosed) {
		t.Errorf("writer after Shutdown: %v, want ErrClosed", err)
	}
	for _, want := range []string{"msg=\"intake listening\" addr=" + l.Addr() + " db=" + f.db.Path, "intake draining", "intake stopped"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
}

// An address that cannot be listened on is an error naming it, and the
// writer is closed: nothing else would close it.
func TestListenFailureClosesTheWriter(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	f := newFixture(t, nil)
	s := intake.NewServer(f.in, f.db, f.db, slog.New(slog.DiscardHandler))
	if _, err := s.Listen(busy.Addr().String(), f.db.Path); err == nil || !strings.Contains(err.Error(), "serve: listen "+busy.Addr().String()) {
		t.Errorf("err = %v", err)
	}
	if _, err := f.in.Writer.Submit(context.Background(), &intake.Write{}); !errors.Is(err, intake.ErrClosed) {
		t.Errorf("writer after a failed Listen: %v, want ErrClosed", err)
	}
}

// net/http's own error messages name the client's address: the log gets a
// fixed line instead.
func TestListenWithholdsHTTPServerErrors(t *testing.T) {
	f := newFixture(t, nil)
	var logs bytes.Buffer
	s := intake.NewServer(f.in, f.db, f.db, slog.New(slog.NewTextHandler(&logs, nil)))
	s.Extra = map[string]http.Handler{"/v1/panic": http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") })}
	l, err := s.Listen("127.0.0.1:0", f.db.Path)
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := http.Get("http://" + l.Addr() + "/v1/panic"); err == nil {
		resp.Body.Close()
		t.Error("a panicking handler answered")
	}
	if err := l.Shutdown(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "details withheld") {
		t.Errorf("no withheld-error line in the log:\n%s", logs.String())
	}
	for _, leak := range []string{"boom", "panic serving", "127.0.0.1:"} {
		if strings.Contains(strings.ReplaceAll(logs.String(), "addr="+l.Addr(), ""), leak) {
			t.Errorf("log holds %q:\n%s", leak, logs.String())
		}
	}
}
