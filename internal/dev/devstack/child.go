package devstack

import (
	"os"
	"os/exec"
	"syscall"
	"time"
)

// child is a server the dev stack runs (ngircd, Dendrite): a process in
// its own process group, so that stopping it stops what it started, with
// its output in a log file.
type child struct {
	cmd *exec.Cmd
	// done is closed when the process has exited.
	done chan struct{}
}

// startChild starts cmd in its own process group writing to logf, which
// is closed when the process ends.
func startChild(cmd *exec.Cmd, logf *os.File) (*child, error) {
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		_ = logf.Close()
		return nil, err
	}
	c := &child{cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		_ = logf.Close()
		close(c.done)
	}()
	return c, nil
}

// stop ends the process group (SIGTERM, then SIGKILL after 5 s) and waits
// for the process. A nil child is stopped already.
func (c *child) stop() {
	if c == nil {
		return
	}
	_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
		<-c.done
	}
}
