#include <stdio.h>
#include "greet.h"

int main(int argc, char **argv) {
    char buf[256];
    greet(argc > 1 ? argv[1] : "world", buf, sizeof buf);
    printf("%s\n", buf);
    return 0;
}
