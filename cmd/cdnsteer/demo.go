package main

import (
	"fmt"
	"io"
)

func demo(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "cdnsteer demo: not built yet")
	return 1
}
