// The program the stage link checks (CMakeLists.txt) build around one whole stage library: it only
// has to exist, since the check is whether that stage's object files link against its declared
// dependencies alone.
int main() {
  return 0;
}
