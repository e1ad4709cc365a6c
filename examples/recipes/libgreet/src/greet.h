#ifndef GREET_H
#define GREET_H
/* Writes "<greeting>, <name>!" into buf; the greeting comes from the installed data file. */
int greet(const char *name, char *buf, unsigned long size);
#endif
