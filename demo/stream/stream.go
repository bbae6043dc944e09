// Package stream makes the demo's live stream: ffmpeg encodes a test
// pattern and a tone, in real time, into HLS (MPEG-TS) and DASH (fMP4)
// segments in a folder with a sliding window, and the demo's simulated
// edges serve those files, so that a real player fetches real video
// through the CDN the steering server picks.
package stream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// SegmentDuration is the length of a segment: one GOP, so that each
// segment starts with a key frame and a player can switch at any of them.
const SegmentDuration = time.Second

// Window is how many segments the live playlists list.
const Window = 6

// The files ffmpeg writes, under Dir.
const (
	HLSPlaylist = "hls/media.m3u8"
	DASHMPD     = "dash/stream.mpd"
)

// Install says how to get ffmpeg on Debian, for messages.
const Install = "apt-get install ffmpeg"

// Stream is a running ffmpeg encoder.
type Stream struct {
	dir  string
	cmd  *exec.Cmd
	done chan struct{}

	mu     sync.Mutex
	exited error // set once ffmpeg has exited
}

// Find returns the ffmpeg binary on PATH, or an error that says how to
// install it.
func Find() (string, error) {
	p, err := exec.LookPath("ffmpeg")
	if err != nil {
		return "", fmt.Errorf("ffmpeg not found on PATH: install it (%s) to play the demo's live stream", Install)
	}
	return p, nil
}

// Start runs ffmpeg (its path) writing into dir, which it creates. The
// process ends with ctx or Stop; what it prints goes to log at debug level
// (warnings and errors at warn).
func Start(ctx context.Context, ffmpeg, dir string, log *slog.Logger) (*Stream, error) {
	for _, sub := range []string{"hls", "dash"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return nil, err
		}
	}
	cmd := exec.CommandContext(ctx, ffmpeg, args(dir)...)
	cmd.Dir = dir
	// SIGTERM lets ffmpeg finish its files; it is killed if it lingers.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 3 * time.Second
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("ffmpeg: %w", err)
	}
	s := &Stream{dir: dir, cmd: cmd, done: make(chan struct{})}
	go logLines(stderr, log)
	go func() {
		err := cmd.Wait()
		if err == nil {
			err = errors.New("ffmpeg exited")
		}
		s.mu.Lock()
		s.exited = err
		s.mu.Unlock()
		close(s.done)
	}()
	return s, nil
}

// args is the encoder's command line: a 640×360 test pattern at 25 fps
// and a 440 Hz tone, read at the native rate (-re) so that segments
// appear in real time; one key frame a second; the HLS and the DASH
// outputs each encode it (two small x264 encodes cost less than a tee
// muxer's quirks). Segments are written under temporary names and
// renamed, so an edge never serves half a file.
func args(dir string) []string {
	gop := strconv.Itoa(int(25 * SegmentDuration / time.Second))
	seg := strconv.FormatFloat(SegmentDuration.Seconds(), 'f', -1, 64)
	win := strconv.Itoa(Window)
	codecs := []string{"-map", "0:v", "-map", "1:a",
		"-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-pix_fmt", "yuv420p",
		"-b:v", "500k", "-maxrate", "600k", "-bufsize", "600k",
		"-g", gop, "-keyint_min", gop, "-sc_threshold", "0",
		"-c:a", "aac", "-b:a", "64k", "-ac", "2"}
	a := []string{"-hide_banner", "-nostdin", "-loglevel", "warning",
		"-re", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25",
		"-re", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"}
	a = append(a, codecs...)
	a = append(a, "-f", "hls", "-hls_time", seg, "-hls_list_size", win,
		"-hls_flags", "delete_segments+independent_segments+temp_file+program_date_time",
		"-hls_segment_filename", filepath.Join(dir, "hls", "seg_%05d.ts"), filepath.Join(dir, HLSPlaylist))
	a = append(a, codecs...)
	a = append(a, "-f", "dash", "-seg_duration", seg, "-window_size", win, "-extra_window_size", "4",
		"-use_template", "1", "-use_timeline", "1", "-adaptation_sets", "id=0,streams=v id=1,streams=a",
		"-init_seg_name", "init-$RepresentationID$.m4s", "-media_seg_name", "chunk-$RepresentationID$-$Number%05d$.m4s",
		filepath.Join(dir, DASHMPD))
	return a
}

func logLines(r io.Reader, log *slog.Logger) {
	buf := make([]byte, 4096)
	var line []byte
	for {
		n, err := r.Read(buf)
		for _, c := range buf[:n] {
			if c == '\n' || c == '\r' {
				if len(line) > 0 {
					log.Warn("ffmpeg", "line", string(line))
				}
				line = line[:0]
				continue
			}
			if len(line) < 1024 {
				line = append(line, c)
			}
		}
		if err != nil {
			return
		}
	}
}

// Dir is the folder the segments are written to.
func (s *Stream) Dir() string { return s.dir }

// Err is why ffmpeg stopped, or nil while it runs.
func (s *Stream) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.exited
}

// Ready reports whether both outputs list at least three segments: a
// player's usual live offset.
func (s *Stream) Ready() bool {
	hls, err := os.ReadFile(filepath.Join(s.dir, HLSPlaylist))
	if err != nil || strings.Count(string(hls), "#EXTINF") < 3 {
		return false
	}
	mpd, err := os.ReadFile(filepath.Join(s.dir, DASHMPD))
	return err == nil && strings.Contains(string(mpd), `type="dynamic"`) && strings.Contains(string(mpd), "<S ")
}

// Stop ends ffmpeg and waits for it.
func (s *Stream) Stop() {
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(3 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// mediaName is what an edge may be asked for: a playlist or a segment in
// one of the two output folders, nothing else (no temporary files, no
// paths out of the folder).
var mediaName = regexp.MustCompile(`^(hls/[A-Za-z0-9_-]+\.(m3u8|ts)|dash/[A-Za-z0-9_-]+\.m4s)$`)

// File returns a playlist or segment by its name under Dir ("hls/…" or
// "dash/…") with its content type, for the edges. ok is false for a name
// that is not one, or a file not (or no longer) there.
func (s *Stream) File(name string) (body []byte, ctype string, ok bool) {
	if !mediaName.MatchString(name) {
		return nil, "", false
	}
	b, err := os.ReadFile(filepath.Join(s.dir, filepath.FromSlash(name)))
	if err != nil {
		return nil, "", false
	}
	return b, contentType(name), true
}

func contentType(name string) string {
	switch filepath.Ext(name) {
	case ".m3u8":
		return "application/vnd.apple.mpegurl"
	case ".ts":
		return "video/mp2t"
	case ".m4s":
		if strings.HasPrefix(filepath.Base(name), "init-") {
			return "video/mp4"
		}
		return "video/iso.segment"
	}
	return "application/octet-stream"
}
