package main

import (
	"fmt"
	"io"
)

func simulate(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "cdnsteer simulate: not built yet")
	return 1
}
