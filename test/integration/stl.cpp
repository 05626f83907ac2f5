// stl.cpp - the C++ runtime's allocation paths on top of malloc: standard
// containers and strings churning, shared_ptr, over-aligned new
// (alignas(64) and alignas(4096) types), new[]/delete[], sized delete,
// nothrow new, and std::bad_alloc from an impossible allocation.
//
// Output is deterministic; the exit status is 0 only when every check held.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <list>
#include <map>
#include <memory>
#include <new>
#include <numeric>
#include <set>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

static int failures;

#define CHECK(cond, what) do {                                       \
	if (!(cond)) {                                               \
		failures++;                                          \
		std::printf("FAIL: line %d: %s\n", __LINE__, what);  \
	}                                                            \
} while (0)

static uint64_t rng_state = 88172645463325252ULL;

static uint64_t next_random()
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static uint64_t fnv(const void *p, size_t n, uint64_t h = 1469598103934665603ULL)
{
	const unsigned char *c = static_cast<const unsigned char *>(p);

	for (size_t i = 0; i < n; i++)
		h = (h ^ c[i]) * 1099511628211ULL;
	return h;
}

static bool aligned_to(const void *p, size_t a)
{
	return (reinterpret_cast<uintptr_t>(p) & (a - 1)) == 0;
}

// Sizes the optimiser cannot see through (it may drop a new/delete pair
// it can prove unused, or warn about a constant impossible size).
static volatile size_t v_huge = SIZE_MAX / 2;
static volatile size_t v_size_max = SIZE_MAX;

static void containers()
{
	std::vector<std::string> words;
	std::map<std::string, int> ordered;
	std::unordered_map<uint64_t, std::vector<int>> buckets;
	std::deque<std::string> fifo;
	std::list<std::vector<char>> blobs;
	std::set<uint64_t> seen;
	uint64_t h = 0;

	for (int round = 0; round < 40; round++) {
		for (int i = 0; i < 5000; i++) {
			uint64_t r = next_random();
			std::string w = "w" + std::to_string(r % 100003);

			w.append(r % 37, static_cast<char>('a' + r % 26));
			words.push_back(w);
			ordered[w] += 1;
			buckets[r % 4099].push_back(i);
			fifo.push_back(std::move(w));
			if (fifo.size() > 3000)
				fifo.pop_front();
			if (i % 50 == 0)
				blobs.emplace_back(static_cast<size_t>(r % 20000), static_cast<char>(i));
			if (blobs.size() > 100)
				blobs.pop_front();
			seen.insert(r % 65536);
		}
		// churn: shrink, erase, rehash
		words.erase(words.begin(), words.begin() + static_cast<long>(words.size() / 2));
		words.shrink_to_fit();
		for (auto it = ordered.begin(); it != ordered.end();) {
			if (it->second == 1 && (it->first.size() & 1))
				it = ordered.erase(it);
			else
				++it;
		}
		for (auto &b : buckets)
			if (b.second.size() > 8)
				b.second.resize(b.second.size() / 2);
		buckets.rehash(buckets.size() * 2 + round);
	}
	std::sort(words.begin(), words.end());
	for (const auto &w : words)
		h = fnv(w.data(), w.size(), h);
	for (const auto &kv : ordered) {
		h = fnv(kv.first.data(), kv.first.size(), h);
		h = fnv(&kv.second, sizeof(kv.second), h);
	}
	size_t bucket_items = 0;
	for (const auto &b : buckets)
		bucket_items += b.second.size();
	size_t blob_bytes = 0;
	for (const auto &b : blobs)
		blob_bytes += b.size();
	std::printf("containers: words %zu ordered %zu buckets %zu/%zu fifo %zu blobs %zu/%zu seen %zu hash %016llx\n",
		    words.size(), ordered.size(), buckets.size(), bucket_items, fifo.size(),
		    blobs.size(), blob_bytes, seen.size(), static_cast<unsigned long long>(h));
}

static void strings()
{
	std::string s;
	uint64_t h = 0;

	for (int i = 0; i < 20000; i++) {
		s += std::to_string(i * 7919 % 10007);
		if (s.size() > 20000) {
			h = fnv(s.data(), s.size(), h);
			s = s.substr(s.size() / 3, s.size() / 3);
		}
		std::string copy = s;           // a copy, freed at once
		copy.insert(0, 3, 'x');
		h ^= copy.size();
	}
	std::printf("strings: final %zu hash %016llx\n", s.size(), static_cast<unsigned long long>(h));
}

struct Node {
	int value;
	std::shared_ptr<Node> next;
	std::weak_ptr<Node> prev;
	std::string label;
};

static void shared_pointers()
{
	long long sum = 0;
	size_t alive = 0;

	for (int round = 0; round < 20; round++) {
		std::vector<std::shared_ptr<Node>> nodes;
		std::shared_ptr<Node> head;

		for (int i = 0; i < 5000; i++) {
			auto n = i % 2 ? std::make_shared<Node>() : std::shared_ptr<Node>(new Node());

			n->value = i + round;
			n->label = "node-" + std::to_string(i);
			n->next = head;
			if (head)
				head->prev = n;
			head = n;
			if (i % 10 == 0)
				nodes.push_back(n);
		}
		for (auto p = head; p; p = p->next)
			sum += p->value;
		for (auto &n : nodes)
			alive += n.use_count() > 1;
		// unlink iteratively: a long chain's recursive destruction would
		// run deep
		while (head)
			head = std::move(head->next);
	}
	std::printf("shared_ptr: sum %lld alive %zu\n", sum, alive);
}

struct alignas(64) Line {
	char bytes[64];
};

struct alignas(4096) Page {
	char bytes[4096];
	int tag;
};

static void over_aligned()
{
	bool all64 = true, all4096 = true;

	std::vector<Line *> lines;
	std::vector<Page *> pages;
	for (int i = 0; i < 2000; i++) {
		Line *l = new Line;

		all64 &= aligned_to(l, 64);
		std::memset(l->bytes, i, sizeof(l->bytes));
		lines.push_back(l);
		if (i % 10 == 0) {
			Page *p = new Page;

			all4096 &= aligned_to(p, 4096);
			p->tag = i;
			pages.push_back(p);
		}
	}
	Line *la = new Line[333];
	Page *pa = new Page[7];
	all64 &= aligned_to(la, 64);
	all4096 &= aligned_to(pa, 4096);
	for (int i = 0; i < 7; i++)
		pa[i].tag = i;
	std::vector<Line> vl(1000);                    // std::allocator<Line>: aligned new
	all64 &= aligned_to(vl.data(), 64);
	std::vector<Page> vp(3);
	all4096 &= aligned_to(vp.data(), 4096);
	Line *nl = new (std::nothrow) Line;
	Page *np = new (std::nothrow) Page;
	all64 &= nl && aligned_to(nl, 64);
	all4096 &= np && aligned_to(np, 4096);

	// the explicit aligned operator new, as libraries call it
	void *raw = ::operator new(100000, std::align_val_t(1 << 16));
	CHECK(aligned_to(raw, 1 << 16), "operator new(100000, align 64K) misaligned");
	std::memset(raw, 1, 100000);
	::operator delete(raw, 100000, std::align_val_t(1 << 16));
	raw = ::operator new[](5000, std::align_val_t(256));
	CHECK(aligned_to(raw, 256), "operator new[](5000, align 256) misaligned");
	::operator delete[](raw, std::align_val_t(256));

	int tags = 0;
	for (Page *p : pages) {
		tags += p->tag;
		delete p;                                  // sized + aligned delete
	}
	for (Line *l : lines)
		delete l;
	delete[] la;
	delete[] pa;
	delete nl;
	delete np;
	CHECK(all64, "alignas(64) object not 64-aligned");
	CHECK(all4096, "alignas(4096) object not 4096-aligned");
	std::printf("aligned new: 64 %s, 4096 %s, tags %d\n", all64 ? "ok" : "BAD",
		    all4096 ? "ok" : "BAD", tags);
}

struct Sized {
	double d[5];
	Sized() { d[0] = 1; }
	~Sized() { d[0] = 0; }
};

static void arrays_and_sized()
{
	uint64_t h = 0;

	for (int i = 1; i < 3000; i++) {
		size_t n = static_cast<size_t>(i) * 13 % 5000 + 1;
		int *a = new int[n];
		Sized *s = new Sized[n % 100 + 1];         // array cookie + sized delete[]
		Sized *one = new Sized;

		std::iota(a, a + n, i);
		h = fnv(a, n * sizeof(int), h);
		h += static_cast<uint64_t>(s[0].d[0] + one->d[0]);
		delete one;                                // sized operator delete
		delete[] s;
		delete[] a;
		char *c = static_cast<char *>(::operator new(n));
		::operator delete(c, n);                   // explicit sized delete
	}
	std::printf("arrays: hash %016llx\n", static_cast<unsigned long long>(h));
}

static void failures_to_allocate()
{
	// nothrow: NULL, no exception
	char *p = new (std::nothrow) char[v_huge];
	CHECK(p == nullptr, "nothrow new of SIZE_MAX/2 bytes did not return nullptr");
	delete[] p;
	void *q = ::operator new(v_size_max, std::nothrow);
	CHECK(q == nullptr, "operator new(SIZE_MAX, nothrow) did not return nullptr");
	q = ::operator new(v_huge, std::align_val_t(64), std::nothrow);
	CHECK(q == nullptr, "aligned nothrow operator new(SIZE_MAX/2) did not return nullptr");

	// throwing: std::bad_alloc
	try {
		char *big = new char[v_huge];

		big[0] = 1;
		std::printf("no exception for new char[SIZE_MAX/2]\n");
		failures++;
		delete[] big;
	} catch (const std::bad_alloc &) {
		std::printf("bad_alloc\n");
	}
	try {
		void *big = ::operator new(v_huge, std::align_val_t(4096));

		std::printf("no exception for aligned operator new(SIZE_MAX/2)\n");
		failures++;
		::operator delete(big, std::align_val_t(4096));
	} catch (const std::bad_alloc &) {
		std::printf("bad_alloc (aligned)\n");
	}
	try {
		std::vector<uint64_t> v;

		v.reserve(v_huge / 16);
		std::printf("no exception for vector::reserve(SIZE_MAX/32)\n");
		failures++;
	} catch (const std::bad_alloc &) {
		std::printf("bad_alloc (vector)\n");
	} catch (const std::length_error &) {
		std::printf("bad_alloc (vector)\n");      // libstdc++ may call it a length error
	}
	// and the allocator still works afterwards
	std::string after(1000, 'z');
	CHECK(after.size() == 1000 && after[999] == 'z', "allocation after bad_alloc");
}

int main()
{
	containers();
	strings();
	shared_pointers();
	over_aligned();
	arrays_and_sized();
	failures_to_allocate();
	std::printf("stl: %s\n", failures ? "FAILED" : "ok");
	return failures ? 1 : 0;
}
