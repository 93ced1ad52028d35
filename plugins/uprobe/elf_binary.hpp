// What the uprobe plugin checks in a binary before attaching, so that a policy naming a missing
// file, a symbol the binary does not define, an offset outside its code or a USDT probe it does
// not have is refused with that reason instead of the kernel's bare errno.
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <vector>

namespace vigil::uprobe {

// One USDT probe site of a binary (a .note.stapsdt note).
struct UsdtSite {
    std::string provider, name;
    uint64_t semaphore = 0; // address of its semaphore, 0: none
};

class ElfBinary {
public:
    // Opens `path` and reads its program headers; an error says why it is not a probe target.
    static std::expected<ElfBinary, std::string> open(const std::string& path);

    // The file offset of function `symbol` (from .symtab, else .dynsym), where a uprobe attaches.
    std::expected<uint64_t, std::string> symbol_offset(const std::string& symbol) const;
    // Checks that `offset` is inside an executable segment of the file.
    std::expected<void, std::string> check_offset(uint64_t offset) const;
    // The USDT probe sites of the binary.
    const std::vector<UsdtSite>& usdt_sites() const { return usdt_; }

private:
    struct Segment {
        uint64_t vaddr, offset, filesz;
        bool exec;
    };
    struct Symbol {
        std::string name;
        uint64_t vaddr;
    };
    std::string path_;
    std::vector<Segment> segments_;
    std::vector<Symbol> functions_; // defined functions of .symtab and .dynsym
    std::vector<UsdtSite> usdt_;
};

} // namespace vigil::uprobe
