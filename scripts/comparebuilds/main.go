// Command comparebuilds helps scripts/compare-builds.sh: `dump DB` prints
// every table of a tally database (columns that are random by design left
// out, see skip), `sql DB STATEMENT` executes one statement (to plant a
// lock), and `fake ADDRFILE` is a local ad platform, writing its address to
// ADDRFILE: Meta's Conversions API (a path ending in /events) accepts every
// batch, any other path is refused with 400.
package main

import (
	"bytes"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"

	_ "modernc.org/sqlite"
)

// skip names the columns whose values differ between two runs of the same
// binary on the same inputs: the per-day salt and everything keyed with it
// (dedup keys, contrib_* tables), and the audit chain's wall-clock `at`
// with the hashes that cover it.
var skip = map[string]bool{
	"days.salt": true, "events.dedup_key": true,
	"audit_log.at": true, "audit_log.hash": true, "audit_log.prev_hash": true,
}

func main() {
	if len(os.Args) < 3 || (os.Args[1] == "sql") != (len(os.Args) == 4) {
		fmt.Fprintln(os.Stderr, "usage: comparebuilds dump DB | sql DB STATEMENT | fake ADDRFILE")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "sql":
		err = execSQL(os.Args[2], os.Args[3])
	case "dump":
		err = dump(os.Stdout, os.Args[2])
	case "fake":
		err = fake(os.Args[2])
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "comparebuilds:", err)
		os.Exit(1)
	}
}

func dump(w io.Writer, path string) error {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return err
	}
	defer db.Close()
	var version int
	if err := db.QueryRow(`PRAGMA user_version`).Scan(&version); err != nil {
		return err
	}
	fmt.Fprintf(w, "user_version %d\n", version)
	rows, err := db.Query(`SELECT type, name, coalesce(sql, '') FROM sqlite_master ORDER BY type, name`)
	if err != nil {
		return err
	}
	var tables []string
	for rows.Next() {
		var typ, name, text string
		if err := rows.Scan(&typ, &name, &text); err != nil {
			return err
		}
		if strings.HasPrefix(name, "contrib_") {
			fmt.Fprintf(w, "%s %s (keys skipped)\n", typ, name)
			continue
		}
		fmt.Fprintf(w, "%s %s\n%s\n", typ, name, text)
		if typ == "table" {
			tables = append(tables, name)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, t := range tables {
		if err := dumpTable(w, db, t); err != nil {
			return fmt.Errorf("%s: %w", t, err)
		}
	}
	return nil
}

func dumpTable(w io.Writer, db *sql.DB, table string) error {
	rows, err := db.Query(`SELECT name FROM pragma_table_info(?)`, table)
	if err != nil {
		return err
	}
	var cols []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return err
		}
		if !skip[table+"."+c] {
			cols = append(cols, `"`+c+`"`)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	order := make([]string, len(cols))
	for i := range cols {
		order[i] = fmt.Sprint(i + 1)
	}
	rows, err = db.Query(`SELECT ` + strings.Join(cols, ",") + ` FROM "` + table + `" ORDER BY ` + strings.Join(order, ","))
	if err != nil {
		return err
	}
	defer rows.Close()
	fmt.Fprintf(w, "== %s (%s)\n", table, strings.Join(cols, ","))
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		out := make([]string, len(vals))
		for i, v := range vals {
			switch v := v.(type) {
			case []byte:
				out[i] = "x'" + hex.EncodeToString(v) + "'"
			case nil:
				out[i] = "NULL"
			default:
				out[i] = fmt.Sprintf("%q", fmt.Sprint(v))
			}
		}
		fmt.Fprintln(w, strings.Join(out, "|"))
	}
	return rows.Err()
}

func execSQL(path, statement string) error {
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.Exec(statement)
	return err
}

// fake answers like Meta's Conversions API accepting the whole batch, or
// refuses a request to any other platform's path; it runs until killed.
func fake(addrFile string) error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	if err := os.WriteFile(addrFile, []byte(l.Addr().String()), 0o600); err != nil {
		return err
	}
	return http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !strings.HasSuffix(r.URL.Path, "/events") {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"code":40002,"message":"compare fake: refused"}`)
			return
		}
		n := bytes.Count(body, []byte(`"event_id"`))
		fmt.Fprintf(w, `{"events_received":%d,"messages":[],"fbtrace_id":"compare"}`, n)
	}))
}
