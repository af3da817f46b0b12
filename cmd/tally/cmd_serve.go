package main

import "github.com/spf13/cobra"

func init() { register(newServeCmd) }

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
			return srv.Shutdown()
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "", "listen address (overrides intake.listen)")
	return cmd
}
