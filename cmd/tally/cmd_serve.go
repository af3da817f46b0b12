package main

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

	"github.com/spf13/cobra"

	"github.com/tally-health/tally/intake"
	"github.com/tally-health/tally/snippet"
	"github.com/tally-health/tally/store"
)

func init() { register(newServeCmd) }

// drainTimeout bounds how long shutdown waits for in-flight requests.
const drainTimeout = 30 * time.Second

func newServeCmd(g *globalOptions) *cobra.Command {
	var listen string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the HTTP intake until SIGINT/SIGTERM, then drain and exit 0",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			e, err := g.load()
			if err != nil {
				return err
			}
			if listen != "" {
				e.cfg.Intake.Listen = listen
			}
			db, err := e.openIntakeDB(cmd.Context())
			if err != nil {
				return err
			}
			defer db.Close()
			srv, err := e.startIntakeServer(cmd.Context(), db)
			if err != nil {
				return err
			}
			<-cmd.Context().Done()
			return srv.shutdown()
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "", "listen address (overrides intake.listen)")
	return cmd
}

// intakeServer is a running HTTP intake.
type intakeServer struct {
	addr   string // the address it listens on
	http   *http.Server
	intake *intake.Intake
	e      *env
	errc   chan error
}

// intakeGCPercent trades memory for CPU in long-running intake: requests
// allocate briefly (bodies, decoded events) and the live heap is small, so
// collecting half as often costs little memory and a few percent of CPU.
// $GOGC, when set, wins.
const intakeGCPercent = 200

// startIntakeServer listens on intake.listen and serves until shutdown.
func (e *env) startIntakeServer(ctx context.Context, db *store.DB) (*intakeServer, error) {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(intakeGCPercent)
	}
	in, err := e.newIntake(ctx, db)
	if err != nil {
		return nil, err
	}
	is := intake.NewServer(in, db, db, e.log)
	is.Extra = map[string]http.Handler{snippet.Path: snippet.Handler()}
	h := is.Handler()
	hs := &http.Server{
		Handler: h,
		// net/http's own messages name the client's address ("http: panic
		// serving 203.0.113.7:51234", TLS handshake errors): log that
		// something happened, never the text.
		ErrorLog:          log.New(redactedLog{e.log}, "", 0),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      15 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
	ln, err := net.Listen("tcp", e.cfg.Intake.Listen)
	if err != nil {
		in.Writer.Close()
		return nil, fmt.Errorf("serve: listen %s: %w", e.cfg.Intake.Listen, err)
	}
	s := &intakeServer{addr: ln.Addr().String(), http: hs, intake: in, e: e, errc: make(chan error, 1)}
	go func() { s.errc <- hs.Serve(ln) }()
	e.log.Info("intake listening", "addr", ln.Addr().String(), "db", db.Path)
	return s, nil
}

// redactedLog turns net/http's error log into a fixed slog warning.
type redactedLog struct{ log *slog.Logger }

func (r redactedLog) Write(p []byte) (int, error) {
	r.log.Warn("http server error (details withheld: they may name a client address)")
	return len(p), nil
}

// shutdown stops accepting, lets in-flight requests finish (their events
// are committed before they are answered), then closes the writer.
func (s *intakeServer) shutdown() error {
	s.e.log.Info("intake draining")
	ctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	err := s.http.Shutdown(ctx)
	s.intake.Writer.Close()
	if serr := <-s.errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("serve: shutdown: %w", err)
	}
	s.e.log.Info("intake stopped")
	return nil
}
