package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"
)

// pushCmd posts every CDN's signals in every region once a second for
// -for, as a RUM aggregator would: the probes' stand-in.
func pushCmd(args []string) error {
	fs := flag.NewFlagSet("push", flag.ContinueOnError)
	url := fs.String("url", "", "server's HTTP base URL")
	tokenFile := fs.String("token", "admin.token", "admin token file")
	dur := fs.Duration("for", time.Minute, "how long to push")
	if err := fs.Parse(args); err != nil {
		return err
	}
	tok, err := os.ReadFile(*tokenFile)
	if err != nil {
		return err
	}
	client := &http.Client{Timeout: 5 * time.Second}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	end := time.Now().Add(*dur)
	for sec := 0; time.Now().Before(end); sec++ {
		if err := pushOnce(client, *url, strings.TrimSpace(string(tok)), int(time.Now().Unix())); err != nil {
			fmt.Fprintln(os.Stderr, "scale push:", err)
		}
		<-tick.C
	}
	return nil
}

func pushOnce(c *http.Client, url, token string, sec int) error {
	var sigs []map[string]any
	for _, r := range readings(sec) {
		sigs = append(sigs, map[string]any{"cdn": r.cdn, "region": r.region, "samples": 1000,
			"ttfb_ms": r.ttfb, "error_rate": r.errs, "cache_hit_ratio": r.hit, "throughput_gbps": r.gbps})
	}
	body, err := json.Marshal(map[string]any{"signals": sigs})
	if err != nil {
		return err
	}
	req, err := http.NewRequest(http.MethodPost, url+"/api/v1/signals", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := c.Do(req)
	if err != nil {
		return err
	}
	res.Body.Close()
	if res.StatusCode != http.StatusAccepted {
		return fmt.Errorf("push answered %s", res.Status)
	}
	return nil
}
