//go:build integration

package dynamotest

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

func TestMain(m *testing.M) { Main(m) }

func TestEndpoint_Shared(t *testing.T) {
	a, b := Endpoint(t), Endpoint(t)
	if a != b {
		t.Fatalf("two calls started two emulators: %s and %s", a, b)
	}
	client := Start(t)
	t1, t2 := NewTable(t, client), NewTable(t, client)
	out, err := client.ListTables(t.Context(), &dynamodb.ListTablesInput{})
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, name := range out.TableNames {
		if name == t1 || name == t2 {
			found++
		}
	}
	if t1 == t2 || found != 2 {
		t.Fatalf("tables %s and %s: %d listed", t1, t2, found)
	}
}

// TestEmulator_ExitsWhenStdinCloses checks the guard against leaked
// processes: closing stdin, which the OS does when the test binary dies,
// ends the emulator without a kill.
func TestEmulator_ExitsWhenStdinCloses(t *testing.T) {
	Endpoint(t) // skips or fails like every other test when node is missing
	e, err := startEmulator()
	if err != nil {
		t.Fatal(err)
	}
	e.stdin.Close()
	select {
	case <-e.exited:
	case <-time.After(stopTimeout):
		e.cmd.Process.Kill()
		t.Fatal("emulator still running after its stdin closed")
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	client := NewClient(e.endpoint)
	if _, err := client.ListTables(ctx, &dynamodb.ListTablesInput{}); err == nil {
		t.Fatal("stopped emulator still answers")
	}
}
