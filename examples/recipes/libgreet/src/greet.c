#include <stdio.h>
#include <string.h>
#include "greet.h"

/* The build bakes the install prefix in; conda's binary prefix replacement relocates it. */
static const char data_dir[] = GREET_DATA_DIR;

int greet(const char *name, char *buf, unsigned long size) {
    char path[4096], word[64] = "Hi";
    snprintf(path, sizeof path, "%s/greeting.txt", data_dir);
    FILE *f = fopen(path, "r");
    if (f) {
        if (fgets(word, sizeof word, f)) word[strcspn(word, "\n")] = 0;
        fclose(f);
    }
    return snprintf(buf, size, "%s, %s!", word, name);
}
