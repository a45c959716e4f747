#include "app/app.hpp"

int main(int argc, char** argv) {
    return gw::run_app(argc, argv);
}
