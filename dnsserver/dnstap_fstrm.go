package dnsserver

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"time"
)

// Frame Streams (github.com/farsightsec/fstrm), the transport dnstap
// readers speak: each data frame is a 32-bit big-endian length and the
// payload; a control frame is a zero length, its own length, its type
// and fields (here only CONTENT_TYPE). A file is unidirectional: START,
// the data, STOP. A socket is bidirectional: the writer sends READY, the
// reader answers ACCEPT naming the content types it takes, then START,
// the data, STOP, and the reader answers FINISH.
const (
	fsAccept = 1
	fsStart  = 2
	fsStop   = 3
	fsReady  = 4
	fsFinish = 5

	fsFieldContentType = 1

	// dnstapContentType is the content type of dnstap frames.
	dnstapContentType = "protobuf:dnstap.Dnstap"

	// fsMaxControl bounds a control frame a reader may send.
	fsMaxControl = 512
)

// appendControl appends a control frame of type typ carrying the content
// type ct (none when empty).
func appendControl(b []byte, typ uint32, ct string) []byte {
	n := 4
	if ct != "" {
		n += 8 + len(ct)
	}
	b = binary.BigEndian.AppendUint32(b, 0)
	b = binary.BigEndian.AppendUint32(b, uint32(n))
	b = binary.BigEndian.AppendUint32(b, typ)
	if ct != "" {
		b = binary.BigEndian.AppendUint32(b, fsFieldContentType)
		b = binary.BigEndian.AppendUint32(b, uint32(len(ct)))
		b = append(b, ct...)
	}
	return b
}

// readControl reads one control frame and returns its type and content
// types.
func readControl(r io.Reader) (typ uint32, types []string, err error) {
	var hdr [8]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	if binary.BigEndian.Uint32(hdr[:4]) != 0 {
		return 0, nil, errors.New("frame streams: a data frame where a control frame was due")
	}
	n := binary.BigEndian.Uint32(hdr[4:])
	if n < 4 || n > fsMaxControl {
		return 0, nil, fmt.Errorf("frame streams: control frame of %d bytes", n)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return 0, nil, err
	}
	typ = binary.BigEndian.Uint32(body)
	for rest := body[4:]; len(rest) > 0; {
		if len(rest) < 8 {
			return 0, nil, errors.New("frame streams: truncated control field")
		}
		field, flen := binary.BigEndian.Uint32(rest), binary.BigEndian.Uint32(rest[4:])
		rest = rest[8:]
		if uint32(len(rest)) < flen {
			return 0, nil, errors.New("frame streams: truncated control field")
		}
		if field == fsFieldContentType {
			types = append(types, string(rest[:flen]))
		}
		rest = rest[flen:]
	}
	return typ, types, nil
}

// tapOutput is one open dnstap destination: a file or a connected
// socket past its handshake.
type tapOutput struct {
	w    *bufio.Writer
	c    io.Closer
	conn net.Conn // set for a socket: deadlines and the FINISH to read
	// n is a frame's length being written (a local would escape).
	n [4]byte
}

// tapWriteTimeout is how long a socket reader may take to read what was
// written before it is taken as gone: the writer then reconnects (a frame
// half written leaves the stream unusable) and meanwhile sampled queries
// are dropped and counted.
const tapWriteTimeout = 2 * time.Second

// dialTap connects to a dnstap reader's Unix socket and does the
// bidirectional handshake.
func dialTap(path string, timeout time.Duration) (*tapOutput, error) {
	c, err := net.DialTimeout("unix", path, timeout)
	if err != nil {
		return nil, err
	}
	c.SetDeadline(time.Now().Add(timeout))
	if _, err := c.Write(appendControl(nil, fsReady, dnstapContentType)); err != nil {
		c.Close()
		return nil, fmt.Errorf("frame streams READY: %w", err)
	}
	typ, types, err := readControl(c)
	if err == nil && typ != fsAccept {
		err = fmt.Errorf("frame streams: control type %d where ACCEPT was due", typ)
	}
	if err == nil && !slices.Contains(types, dnstapContentType) {
		err = fmt.Errorf("frame streams: the reader accepts %q, not %q", types, dnstapContentType)
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	if _, err := c.Write(appendControl(nil, fsStart, dnstapContentType)); err != nil {
		c.Close()
		return nil, fmt.Errorf("frame streams START: %w", err)
	}
	c.SetDeadline(time.Time{})
	return &tapOutput{w: bufio.NewWriterSize(c, 64<<10), c: c, conn: c}, nil
}

// fileTap starts a unidirectional stream on w.
func fileTap(w io.WriteCloser) (*tapOutput, error) {
	o := &tapOutput{w: bufio.NewWriterSize(w, 64<<10), c: w}
	o.w.Write(appendControl(nil, fsStart, dnstapContentType))
	if err := o.w.Flush(); err != nil {
		w.Close()
		return nil, err
	}
	return o, nil
}

// frame writes one data frame (buffered).
func (o *tapOutput) frame(payload []byte) error {
	binary.BigEndian.PutUint32(o.n[:], uint32(len(payload)))
	o.w.Write(o.n[:])
	_, err := o.w.Write(payload)
	return err
}

// deadline bounds the writes until the next call (sockets only).
func (o *tapOutput) deadline() {
	if o.conn != nil {
		o.conn.SetWriteDeadline(time.Now().Add(tapWriteTimeout))
	}
}

func (o *tapOutput) flush() error {
	o.deadline()
	return o.w.Flush()
}

// close ends the stream: STOP, and on a socket the reader's FINISH
// (waited for briefly), then closes it.
func (o *tapOutput) close() error {
	o.deadline()
	o.w.Write(appendControl(nil, fsStop, ""))
	err := o.w.Flush()
	if o.conn != nil && err == nil {
		o.conn.SetReadDeadline(time.Now().Add(time.Second))
		// A reader gone quiet is let go; one that answers otherwise says so.
		if typ, _, rerr := readControl(o.conn); rerr == nil && typ != fsFinish {
			err = fmt.Errorf("dnstap reader answered STOP with control frame %d, not FINISH", typ)
		}
	}
	if cerr := o.c.Close(); err == nil {
		err = cerr
	}
	return err
}
