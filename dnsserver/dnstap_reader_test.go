package dnsserver

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"
)

// A Frame Streams reader and dnstap decoder for the tests, written from
// the specifications rather than from the writer's code, so that the two
// can disagree.

// tapMsg is one decoded dnstap message.
type tapMsg struct {
	identity, version string
	typ               uint64 // Dnstap.type
	kind              uint64 // Message.type: 1 AUTH_QUERY, 2 AUTH_RESPONSE
	family, proto     uint64
	qaddr, raddr      netip.Addr
	qport, rport      uint64
	qsec              uint64
	qnsec             uint32
	query, response   []byte
}

// pbFields calls f for each field of a protobuf message: its number and
// either its varint, its fixed32 or its bytes.
func pbFields(b []byte, f func(num int, v uint64, raw []byte) error) error {
	for len(b) > 0 {
		tag, n := binary.Uvarint(b)
		if n <= 0 {
			return errors.New("bad tag")
		}
		b = b[n:]
		num := int(tag >> 3)
		switch tag & 7 {
		case 0:
			v, n := binary.Uvarint(b)
			if n <= 0 {
				return errors.New("bad varint")
			}
			b = b[n:]
			if err := f(num, v, nil); err != nil {
				return err
			}
		case 2:
			l, n := binary.Uvarint(b)
			if n <= 0 || uint64(len(b)-n) < l {
				return errors.New("bad length")
			}
			if err := f(num, 0, b[n:n+int(l)]); err != nil {
				return err
			}
			b = b[n+int(l):]
		case 5:
			if len(b) < 4 {
				return errors.New("short fixed32")
			}
			if err := f(num, uint64(binary.LittleEndian.Uint32(b)), nil); err != nil {
				return err
			}
			b = b[4:]
		default:
			return fmt.Errorf("wire type %d", tag&7)
		}
	}
	return nil
}

func decodeTap(b []byte) (tapMsg, error) {
	var m tapMsg
	addr := func(raw []byte) netip.Addr { a, _ := netip.AddrFromSlice(raw); return a }
	err := pbFields(b, func(num int, v uint64, raw []byte) error {
		switch num {
		case 1:
			m.identity = string(raw)
		case 2:
			m.version = string(raw)
		case 15:
			m.typ = v
		case 14:
			return pbFields(raw, func(num int, v uint64, raw []byte) error {
				switch num {
				case 1:
					m.kind = v
				case 2:
					m.family = v
				case 3:
					m.proto = v
				case 4:
					m.qaddr = addr(raw)
				case 5:
					m.raddr = addr(raw)
				case 6:
					m.qport = v
				case 7:
					m.rport = v
				case 8:
					m.qsec = v
				case 9:
					m.qnsec = uint32(v)
				case 10:
					m.query = append([]byte(nil), raw...)
				case 14:
					m.response = append([]byte(nil), raw...)
				}
				return nil
			})
		}
		return nil
	})
	return m, err
}

const testContentType = "protobuf:dnstap.Dnstap"

// control reads a control frame (after its zero escape has been read)
// and returns its type and content type field.
func control(r io.Reader) (uint32, string, error) {
	var hdr [8]byte
	if _, err := io.ReadFull(r, hdr[:4]); err != nil {
		return 0, "", err
	}
	n := binary.BigEndian.Uint32(hdr[:4])
	if n < 4 || n > 1024 {
		return 0, "", fmt.Errorf("control frame length %d", n)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return 0, "", err
	}
	typ, ct := binary.BigEndian.Uint32(body), ""
	if len(body) >= 12 && binary.BigEndian.Uint32(body[4:]) == 1 {
		l := binary.BigEndian.Uint32(body[8:])
		if int(l) > len(body)-12 {
			return 0, "", errors.New("content type overruns the frame")
		}
		ct = string(body[12 : 12+l])
	}
	return typ, ct, nil
}

// expectControl reads an escape and a control frame of type want.
func expectControl(r io.Reader, want uint32) (string, error) {
	var esc [4]byte
	if _, err := io.ReadFull(r, esc[:]); err != nil {
		return "", err
	}
	if binary.BigEndian.Uint32(esc[:]) != 0 {
		return "", errors.New("data frame where a control frame was due")
	}
	typ, ct, err := control(r)
	if err == nil && typ != want {
		err = fmt.Errorf("control type %d, want %d", typ, want)
	}
	return ct, err
}

func controlFrame(typ uint32, ct string) []byte {
	b := make([]byte, 12, 20+len(ct))
	n := 4
	if ct != "" {
		n += 8 + len(ct)
	}
	binary.BigEndian.PutUint32(b[4:], uint32(n))
	binary.BigEndian.PutUint32(b[8:], typ)
	if ct != "" {
		b = binary.BigEndian.AppendUint32(b, 1)
		b = binary.BigEndian.AppendUint32(b, uint32(len(ct)))
		b = append(b, ct...)
	}
	return b
}

// readStream reads data frames up to STOP (or the end), decoding each.
func readStream(r io.Reader, got func(tapMsg)) (stopped bool, err error) {
	var n [4]byte
	for {
		if _, err := io.ReadFull(r, n[:]); err != nil {
			return false, err
		}
		l := binary.BigEndian.Uint32(n[:])
		if l == 0 {
			typ, _, err := control(r)
			if err != nil {
				return false, err
			}
			if typ != 3 {
				return false, fmt.Errorf("control type %d inside the stream", typ)
			}
			return true, nil
		}
		payload := make([]byte, l)
		if _, err := io.ReadFull(r, payload); err != nil {
			return false, err
		}
		m, err := decodeTap(payload)
		if err != nil {
			return false, err
		}
		got(m)
	}
}

// tapReader is a dnstap reader on a Unix socket: it accepts writers, does
// the bidirectional handshake (READY → ACCEPT, START) and collects the
// messages; with stall set it does the handshake and then reads nothing.
type tapReader struct {
	ln    net.Listener
	stall bool

	mu       sync.Mutex
	msgs     []tapMsg
	accepted int
	finished int
	errs     []error
	conns    []net.Conn
}

func listenTap(t *testing.T, path string, stall bool) *tapReader {
	t.Helper()
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	r := &tapReader{ln: ln, stall: stall}
	var conns sync.WaitGroup
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			r.mu.Lock()
			r.conns = append(r.conns, c)
			r.mu.Unlock()
			conns.Add(1)
			go func() {
				defer conns.Done()
				defer c.Close()
				r.serve(c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		// A writer still connected (the tapper may outlive the reader)
		// is cut off.
		r.mu.Lock()
		r.stall = false
		for _, c := range r.conns {
			c.Close()
		}
		r.mu.Unlock()
		conns.Wait()
	})
	return r
}

func (r *tapReader) fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, err)
}

func (r *tapReader) serve(c net.Conn) {
	ct, err := expectControl(c, 4) // READY
	if err == nil && ct != testContentType {
		err = fmt.Errorf("READY offers %q", ct)
	}
	if err == nil {
		_, err = c.Write(controlFrame(1, testContentType)) // ACCEPT
	}
	if err == nil {
		ct, err = expectControl(c, 2) // START
		if err == nil && ct != testContentType {
			err = fmt.Errorf("START names %q", ct)
		}
	}
	if err != nil {
		r.fail(err)
		return
	}
	r.mu.Lock()
	r.accepted++
	r.mu.Unlock()
	for {
		r.mu.Lock()
		stall := r.stall
		r.mu.Unlock()
		if !stall {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	stopped, err := readStream(c, func(m tapMsg) {
		r.mu.Lock()
		r.msgs = append(r.msgs, m)
		r.mu.Unlock()
	})
	if stopped {
		c.Write(controlFrame(5, "")) // FINISH
		r.mu.Lock()
		r.finished++
		r.mu.Unlock()
	}
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
		r.fail(err)
	}
}

func (r *tapReader) messages() []tapMsg {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]tapMsg(nil), r.msgs...)
}

// awaitTap polls cond until it holds or a generous deadline passes.
func awaitTap(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
