package intake

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"time"
)

// drainTimeout bounds how long Shutdown waits for in-flight requests.
const drainTimeout = 30 * time.Second

// gcPercent trades memory for CPU in a long-running intake: requests
// allocate briefly (bodies, decoded events) and the live heap is small, so
// collecting half as often costs little memory and a few percent of CPU.
// $GOGC, when set, wins.
const gcPercent = 200

// Listener is a running HTTP intake.
type Listener struct {
	addr   string
	http   *http.Server
	writer *Writer
	log    *slog.Logger
	errc   chan error
}

// Listen serves s.Handler() on addr until Shutdown. From here on the
// listener owns the intake's writer: Shutdown closes it, and so does a
// Listen that fails. db names the database in the log.
func (s *Server) Listen(addr, db string) (*Listener, error) {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	hs := &http.Server{
		Handler: s.Handler(),
		// net/http's own messages name the client's address ("http: panic
		// serving 203.0.113.7:51234", TLS handshake errors): log that
		// something happened, never the text.
		ErrorLog:          log.New(redactedLog{s.Log}, "", 0),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      15 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		s.Intake.Writer.Close()
		return nil, fmt.Errorf("serve: listen %s: %w", addr, err)
	}
	l := &Listener{addr: ln.Addr().String(), http: hs, writer: s.Intake.Writer, log: s.Log, errc: make(chan error, 1)}
	go func() { l.errc <- hs.Serve(ln) }()
	s.Log.Info("intake listening", "addr", l.addr, "db", db)
	return l, nil
}

// Addr is the address the listener accepts on (host:port, the port
// chosen when addr asked for port 0).
func (l *Listener) Addr() string { return l.addr }

// redactedLog turns net/http's error log into a fixed slog warning.
type redactedLog struct{ log *slog.Logger }

func (r redactedLog) Write(p []byte) (int, error) {
	r.log.Warn("http server error (details withheld: they may name a client address)")
	return len(p), nil
}

// Shutdown stops accepting, lets in-flight requests finish (their events
// are committed before they are answered), then closes the writer.
func (l *Listener) Shutdown() error {
	l.log.Info("intake draining")
	ctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	err := l.http.Shutdown(ctx)
	l.writer.Close()
	if serr := <-l.errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("serve: shutdown: %w", err)
	}
	l.log.Info("intake stopped")
	return nil
}
