"""Facts about the machine naja runs on (OS and libc versions, CPU level, GPU driver)."""
