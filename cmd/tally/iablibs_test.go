package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// npmPackage is one of the IAB's libraries the CMP browser test runs,
// pinned to its version and to the integrity the npm registry publishes
// for it (`npm view NAME@VERSION dist.integrity`).
type npmPackage struct{ Name, Version, Integrity string }

// iabPackages are the IAB Tech Lab's own CMP API and encoder libraries: a
// TCF or GPP consent manager is built on them, so the strings the browser
// test sends are what a real one emits.
var iabPackages = []npmPackage{
	{"@iabtechlabtcf/core", "1.5.21", "sha512-DgesUdC/s4qiL41X8TfgF+EPINMGUMyd9AL2up5jC2l+uTbgJycf1mIEniPFJwuxGgSvDx9X4H44JIN+2rw66Q=="},
	{"@iabtechlabtcf/cmpapi", "1.5.21", "sha512-Y8fc5ZDkmj/h1A+nUWa7ce3KAjJpLchFuuhIVhMhVqxMiPydevb9F7Y7gORqinEXJoNIrOr7JIM8YC3mwVR5kQ=="},
	{"@iabgpp/cmpapi", "3.2.0", "sha512-p7qO2vhSZ/dzfRrWUbDWSXIl3rkvdAA+dQdoScDdbyf+HJBNqBuCuM4MsddTwT2QIQYsjb0F9ES6+Cx/KncxrQ=="},
}

// iabLibraries returns a folder holding each of iabPackages unpacked under
// its name and version (@iabgpp/cmpapi@3.2.0/lib/mjs/index.js, ...). The
// first run fetches them with `npm pack` into .cache/npm at the module's
// root (ignored by git, never committed); later runs read the cache.
// Without the cache and without npm it says why the tests that need them
// skip, except under CI, where that is an error (.ci/run installs npm).
func iabLibraries() (dir, skip string, err error) {
	root, err := moduleRoot()
	if err != nil {
		return "", "", err
	}
	cache := filepath.Join(root, ".cache", "npm")
	for _, p := range iabPackages {
		dir := filepath.Join(cache, p.Name+"@"+p.Version)
		if _, err := os.Stat(filepath.Join(dir, "package.json")); err == nil {
			continue
		}
		npm, err := exec.LookPath("npm")
		if err != nil && os.Getenv("CI") != "" {
			return "", "", errors.New("npm not found and CI is set: install Debian's npm package (.ci/run does)")
		}
		if err != nil {
			return "", fmt.Sprintf("npm not found and %s@%s is not in %s: install Node.js and npm to run the TCF and GPP browser tests", p.Name, p.Version, cache), nil
		}
		if err := fetchPackage(npm, p, dir); err != nil {
			return "", "", fmt.Errorf("fetch %s@%s: %w", p.Name, p.Version, err)
		}
	}
	return cache, "", nil
}

// fetchPackage downloads one package with npm pack, checks it against its
// pinned integrity and unpacks it into dir. It unpacks beside dir and
// renames, so a second test process never reads a half-written folder.
func fetchPackage(npm string, p npmPackage, dir string) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".fetch-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	cmd := exec.Command(npm, "pack", "--json", "--pack-destination", tmp, p.Name+"@"+p.Version)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("npm pack: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	var packed []struct{ Filename string }
	if err := json.Unmarshal(out, &packed); err != nil || len(packed) != 1 {
		return fmt.Errorf("npm pack printed %q, want one package", out)
	}
	tgz, err := os.ReadFile(filepath.Join(tmp, filepath.Base(packed[0].Filename)))
	if err != nil {
		return err
	}
	sum := sha512.Sum512(tgz)
	if got := "sha512-" + base64.StdEncoding.EncodeToString(sum[:]); got != p.Integrity {
		return fmt.Errorf("tarball integrity %s, want %s", got, p.Integrity)
	}
	unpacked := filepath.Join(tmp, "package")
	if err := untar(tgz, tmp); err != nil {
		return err
	}
	if err := os.Rename(unpacked, dir); err != nil {
		if _, statErr := os.Stat(filepath.Join(dir, "package.json")); statErr == nil {
			return nil // another test process got there first
		}
		return err
	}
	return nil
}

// untar writes the regular files of a gzipped tarball under dir, refusing
// any name that would land outside it.
func untar(tgz []byte, dir string) error {
	zr, err := gzip.NewReader(bytes.NewReader(tgz))
	if err != nil {
		return err
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		name := filepath.Clean(filepath.FromSlash(h.Name))
		if !filepath.IsLocal(name) {
			return fmt.Errorf("tarball entry %q leaves its folder", h.Name)
		}
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return err
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			return err
		}
	}
}

// moduleRoot is the folder of go.mod above the test's working directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}
