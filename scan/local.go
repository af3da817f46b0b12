package scan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// htmlExt are the saved-page files a folder scan reads.
var htmlExt = map[string]bool{".html": true, ".htm": true, ".xhtml": true, ".shtml": true}

// local scans a saved HTML file, or every HTML file under a folder. Script
// files the pages load by a relative path are read when they lie inside
// the folder (the local "same host"); pages are not limited by MaxPages,
// since reading files costs nobody's server anything.
func (s *Scanner) local(ctx context.Context, target string) error {
	st, err := os.Stat(target)
	if err != nil {
		return fmt.Errorf("open: %w", err)
	}
	if !st.IsDir() {
		return s.localPage(ctx, filepath.Dir(target), target)
	}
	read := 0
	err = filepath.WalkDir(target, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			s.skip(p, err.Error())
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if d.IsDir() || !htmlExt[strings.ToLower(filepath.Ext(p))] {
			return nil
		}
		if err := s.localPage(ctx, target, p); err != nil {
			s.skip(p, err.Error())
			return nil
		}
		read++
		return nil
	})
	if err != nil {
		return fmt.Errorf("walk: %w", err)
	}
	if read == 0 {
		return errors.New("no .html or .htm file in the folder")
	}
	return nil
}

// localPage scans one saved page; root bounds which script files it may
// read.
func (s *Scanner) localPage(ctx context.Context, root, file string) error {
	body, truncated, err := s.readFile(file)
	if err != nil {
		return err
	}
	if s.read[file] {
		return nil
	}
	s.read[file] = true
	s.res.Pages = append(s.res.Pages, file)
	if truncated {
		s.truncated(file)
	}
	p := parsePage(body)
	rep := s.newReport(file)
	rep.add(file, Detect(p.code))
	for _, src := range p.scripts {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		js, ok := localRef(root, filepath.Dir(file), src)
		if !ok {
			continue // a URL: offline, only its text in p.code is checked
		}
		rep.add(js, s.localScript(js))
	}
	return nil
}

// localScript returns what a script file holds, reading it once.
func (s *Scanner) localScript(file string) []Match {
	if r, ok := s.scripts[file]; ok {
		return r
	}
	body, truncated, err := s.readFile(file)
	if err != nil {
		s.skip(file, err.Error())
		s.scripts[file] = nil
		return nil
	}
	s.res.Scripts++
	if truncated {
		s.truncated(file)
	}
	m := Detect(string(body))
	s.scripts[file] = m
	return m
}

// readFile reads up to MaxBytes of a file.
func (s *Scanner) readFile(name string) (body []byte, truncated bool, err error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, false, fmt.Errorf("open: %w", err)
	}
	defer f.Close()
	body, err = io.ReadAll(io.LimitReader(f, s.opt.MaxBytes+1))
	if err != nil {
		return nil, false, fmt.Errorf("read %s: %w", name, err)
	}
	if int64(len(body)) > s.opt.MaxBytes {
		return body[:s.opt.MaxBytes], true, nil
	}
	return body, false, nil
}

// localRef resolves a script src found in a saved page to a file: a
// relative path from the page's folder, or a root-relative one from root.
// URLs with a scheme or host, and paths that leave root, are not files
// here (ok=false).
func localRef(root, dir, src string) (string, bool) {
	u, err := url.Parse(src)
	if err != nil || u.Scheme != "" || u.Host != "" || u.Path == "" {
		return "", false
	}
	rel := filepath.FromSlash(u.Path)
	var p string
	if strings.HasPrefix(u.Path, "/") {
		p = filepath.Join(root, rel)
	} else {
		p = filepath.Join(dir, rel)
	}
	r, err := filepath.Rel(root, p)
	if err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return "", false
	}
	return p, true
}
