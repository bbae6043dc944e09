package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// Version is set at build time with -ldflags "-X main.Version=v1.2.3".
var Version = "dev"

func version(w io.Writer) int {
	commit, modified := revision()
	suffix := ""
	if modified {
		suffix = " (modified)"
	}
	fmt.Fprintf(w, "cdnsteer %s\ngo %s %s/%s\ncommit %s%s\n", Version, runtime.Version(), runtime.GOOS, runtime.GOARCH, commit, suffix)
	return 0
}

// revision is the commit the binary was built from ("unknown" outside a
// checkout) and whether the tree had uncommitted changes.
func revision() (commit string, modified bool) {
	commit = "unknown"
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	return commit, modified
}
