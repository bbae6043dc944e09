package qoe

import (
	"strconv"
	"syscall"
	"testing"
	"time"
)

// BenchmarkCMCD is one CMCD line parsed and aggregated, as POST
// /qoe/cmcd does for each line of a batch: a v2 response-received event
// as players send them, over 10,000 sessions.
func BenchmarkCMCD(b *testing.B) {
	c := NewCollector(nil)
	c.Configure(Config{Sample: 1, Window: 30 * time.Second}, testTopology())
	lines := make([][]byte, 10000)
	for i := range lines {
		bs := ""
		if i%20 == 0 {
			bs = "bs,bsd=(1200;v),"
		}
		lines[i] = []byte(bs + `br=(4500;v),cdn="fastly",e=rr,mtp=(8100;v),ot=v,rc=200,sf=h,sid="` +
			"4f1c2a7e-9b3d-4e8f-a1c6-" + strconv.Itoa(100000000000+i) + `",st=l,ts=1718000000123,ttfb=87,ttlb=412,url="https://f.cdn.example.net/live/v/1080p/seg-42.m4s",v=2`)
	}
	var p Parser
	var r Report
	now := time.Unix(1.8e9, 0)
	b.ReportAllocs()
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := p.Parse(lines[i%len(lines)], &r); err != nil {
			b.Fatal(err)
		}
		c.Add(&r, Session(r.SID, nil), 1, -1, now)
	}
	b.StopTimer()
	// On a shared machine the wall clock counts the waits for a core;
	// the process's own CPU time does not.
	b.ReportMetric(float64(b.N)/(cpuTime()-cpu0).Seconds(), "lines/cpu-s")
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
