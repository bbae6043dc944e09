package main

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// newLogger is serve's logger: -log-format logfmt (key=value, the
// default) or json (one object a line, for Loki, Elasticsearch and the
// like), at -log-level debug, info (default), warn or error. It is made
// the default logger too, so that the few lines logged outside serve's
// own (a recovered panic on the query path) follow the same format.
func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil || strings.ContainsAny(level, "+-") {
		return nil, fmt.Errorf("-log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	var h slog.Handler
	switch format {
	case "logfmt":
		h = slog.NewTextHandler(w, opts)
	case "json":
		h = slog.NewJSONHandler(w, opts)
	default:
		return nil, fmt.Errorf("-log-format %q: want logfmt or json", format)
	}
	log := slog.New(h)
	slog.SetDefault(log)
	return log, nil
}
