package main

import (
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/tally-health/tally/store"
)

// Set by scripts/release.sh with -ldflags "-X main.version=... -X
// main.revision=... -X main.buildTime=...". Empty, each falls back to what
// the Go toolchain recorded in the binary (runtime/debug.ReadBuildInfo).
var (
	version   string
	revision  string
	buildTime string
)

// buildInfo describes this binary, for `tally version` and for the run
// record's version.
type buildInfo struct {
	Version  string `json:"version"`
	Revision string `json:"revision"`
	Time     string `json:"time"`
	Modified bool   `json:"modified"`
	Go       string `json:"go"`
	Schema   int    `json:"schema"`
}

// currentBuild reads the build's description: the -ldflags values when
// set, else the module version and the VCS stamp the toolchain embeds
// (`go build` in a git checkout records the commit, its time and whether
// the tree had changes). A binary built without either says "dev", with
// an empty revision and time.
func currentBuild() buildInfo {
	b := buildInfo{Version: version, Revision: revision, Time: buildTime, Go: runtime.Version(), Schema: store.SchemaVersion()}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return b.orDev()
	}
	if b.Version == "" && info.Main.Version != "(devel)" {
		b.Version = info.Main.Version
	}
	// The toolchain's VCS stamp describes the checkout it built; when the
	// release script names a revision, the stamp is not used at all, so
	// the three fields never describe two different commits.
	if revision == "" {
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				b.Revision = s.Value
			case "vcs.time":
				if b.Time == "" {
					b.Time = s.Value
				}
			case "vcs.modified":
				b.Modified = s.Value == "true"
			}
		}
	}
	return b.orDev()
}

func (b buildInfo) orDev() buildInfo {
	if b.Version == "" {
		b.Version = "dev"
	}
	return b
}

func newVersionCmd(g *globalOptions) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version, revision, build time, Go version and schema version",
		Long: `Print what this binary is: its version (set by scripts/release.sh, else
the module version the Go toolchain recorded, else "dev"), the VCS revision
and commit time it was built from ("+modified" when the checkout had
uncommitted changes), the Go version, and the database schema version it
migrates to. --json prints the same as one JSON object.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b := currentBuild()
			if asJSON {
				enc := json.NewEncoder(g.stdout)
				return enc.Encode(b)
			}
			rev := b.Revision
			if rev == "" {
				rev = "unknown"
			}
			if b.Modified {
				rev += "+modified"
			}
			t := b.Time
			if t == "" {
				t = "unknown"
			}
			_, err := fmt.Fprintf(g.stdout, "tally %s\nrevision: %s\ntime:     %s\ngo:       %s\nschema:   %d\n", b.Version, rev, t, b.Go, b.Schema)
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	return cmd
}
