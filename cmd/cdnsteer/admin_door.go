package main

import (
	"fmt"
	"io"
	"slices"

	"github.com/cdnsteer/cdnsteer/admin"
	"github.com/cdnsteer/cdnsteer/zones"
)

// withDoor is cfg with the policy's keys that guard the HTTP endpoint:
// tokens, open reads, allowed hosts, TLS.
func withDoor(cfg admin.Config, s zones.Server) admin.Config {
	cfg.Addr = s.HTTP
	cfg.TokenFile = s.AdminTokenFile
	cfg.OpenReads = s.HTTPOpenReads
	cfg.AllowedHosts = s.HTTPAllowedHosts
	cfg.TLSCert, cfg.TLSKey = s.HTTPTLSCert, s.HTTPTLSKey
	return cfg
}

// sameDoor tells whether two policies guard the endpoint alike: a change
// takes effect on restart, as one of server.http does.
func sameDoor(a, b zones.Server) bool {
	return a.HTTP == b.HTTP && a.HTTPOpenReads == b.HTTPOpenReads && slices.Equal(a.HTTPAllowedHosts, b.HTTPAllowedHosts) &&
		a.HTTPTLSCert == b.HTTPTLSCert && a.HTTPTLSKey == b.HTTPTLSKey && a.AdminTokenFile == b.AdminTokenFile
}

// checkDoor reads the token file and certificate the policy names, as a
// start would, and prints what the endpoint would be; false when either
// cannot be used.
func checkDoor(snap *zones.Snapshot, stdout, stderr io.Writer) bool {
	if snap.Server.HTTP == "" {
		return true
	}
	acc, err := admin.CheckAccess(withDoor(admin.Config{}, snap.Server))
	if err != nil {
		fmt.Fprintln(stderr, err)
		return false
	}
	fmt.Fprintf(stdout, "http %s: %s\n", snap.Server.HTTP, acc)
	for _, w := range acc.Warnings {
		fmt.Fprintf(stdout, "warning: %s\n", w)
	}
	return true
}
